package bn_test

import (
	"fmt"

	"github.com/simdbn/simdbn/bn"
)

// A training step on a batch of 2 samples of 2 channels of 3 positions
// (NCL), then inference with the updated running statistics. (Channel 0
// holds 1..6: mean 3.5, var 17.5/6; y[0] = -2.5/sqrt(17.5/6); the running
// variance is 0.9*1 + 0.1*(17.5/6)*6/5 = 1.25; inference y[0] =
// (1 - 0.35)/sqrt(1.25).)
func Example() {
	s := bn.Shape{N: 2, C: 2, S: 3} // channels first: x[(n*C + c)*S + s]
	x := []float32{
		1, 2, 3, 10, 20, 30, // sample 0: channel 0, channel 1
		4, 5, 6, 40, 50, 60, // sample 1
	}
	layer := bn.New(2)
	layer.Eps = 0
	y := make([]float32, len(x))
	st := &bn.Stats{Mean: make([]float32, 2), Var: make([]float32, 2), InvStd: make([]float32, 2)}
	if err := layer.Train(y, x, s, st); err != nil {
		panic(err)
	}
	fmt.Printf("mean %v var %.4g\n", st.Mean, st.Var)
	fmt.Printf("y %.3f\n", y[:3])
	fmt.Printf("running mean %v var %.4g\n", layer.RunningMean, layer.RunningVar)

	if err := layer.Infer(y, x, s); err != nil {
		panic(err)
	}
	fmt.Printf("inference y %.3f\n", y[:3])
	// Output:
	// mean [3.5 35] var [2.917 291.7]
	// y [-1.464 -0.878 -0.293]
	// running mean [0.35 3.5] var [1.25 35.9]
	// inference y [0.581 1.476 2.370]
}

// Backward after Train, with the statistics Train saved. (xhat =
// (-1.5, -0.5, 0.5, 1.5)/sqrt(1.25), dgamma = sum(dy*xhat) = 1.118,
// dx = invstd/4*(4*dy - dbeta - xhat*dgamma).)
func ExampleBatchNorm_Backward() {
	s := bn.Shape{N: 4, C: 1, S: 1}
	x := []float32{1, 2, 3, 4}
	dy := []float32{0.5, -1, 0, 1}
	layer := bn.New(1)
	y := make([]float32, 4)
	st := &bn.Stats{Mean: make([]float32, 1), InvStd: make([]float32, 1)}
	if err := layer.Train(y, x, s, st); err != nil {
		panic(err)
	}
	dx, dgamma, dbeta := make([]float32, 4), make([]float32, 1), make([]float32, 1)
	if err := layer.Backward(dx, dgamma, dbeta, dy, x, s, st); err != nil {
		panic(err)
	}
	fmt.Printf("dx %.4f dgamma %.4f dbeta %.4f\n", dx, dgamma, dbeta)
	// Output:
	// dx [0.6708 -0.8944 -0.2236 0.4472] dgamma [1.1180] dbeta [0.5000]
}

// Spreading calls over goroutines: results are the same bits for any
// number of workers, a warm pool starts no goroutine per call, and
// batches below SplitMin values (this one has 401408) stay on the calling
// goroutine.
func ExampleBatchNorm_workers() {
	layer := bn.New(64)
	layer.Workers = 2 // or layer.Runner = a framework's own pool
	s := bn.Shape{N: 8, C: 64, S: 28 * 28, Layout: bn.ChannelsLast}
	x := make([]float32, s.N*s.C*s.S)
	for i := range x {
		x[i] = float32(i % 7)
	}
	if err := layer.Infer(x, x, s); err != nil { // in place
		panic(err)
	}
	fmt.Println(x[:3])
	// Output:
	// [0 0.999995 1.99999]
}
