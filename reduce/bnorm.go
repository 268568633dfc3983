package reduce

import "math"

// TrainArgs holds the operands of Train. The caller has checked them: the
// lengths match Shape, M >= 2, Eps and Momentum are valid, and outputs
// either are the very same slice as an input or overlap nothing.
type TrainArgs struct {
	Y, X  []float32
	Shape Shape
	// Gamma and Beta are nil (ones, zeros) or of length C.
	Gamma, Beta []float32
	Eps         float32
	Momentum    float32
	// Mean, Var and InvStd receive the batch statistics when not nil.
	Mean, Var, InvStd []float32
	// RunningMean and RunningVar are updated when not nil.
	RunningMean, RunningVar []float32
}

// Train normalizes X into Y with the batch's own statistics:
//
//	y = ((x - hi) - lo)*a + b,  hi + lo = mean, a = gamma*invstd, b = beta
//
// where mean is the float64 mean rounded to the float32 pair hi + lo. It
// then writes the statistics and updates the running ones (per-channel
// outputs are written last, so they may be the very same slices as Gamma or
// Beta).
func Train(a *TrainArgs) {
	k := current()
	ws := getWorkspace()
	defer putWorkspace(ws)
	s := a.Shape
	C := s.C
	if C == 0 {
		return
	}
	mean, variance, inv := ws.moments(C)
	if s.rowMajor() {
		momentsCL(k, ws, a.X, s, mean, variance)
		p := ws.params(4 * C)
		for c := range C {
			inv[c] = invStd(variance[c], a.Eps)
			p[c], p[C+c], p[2*C+c], p[3*C+c] = normParams(mean[c], inv[c], at(a.Gamma, c, 1), at(a.Beta, c, 0))
		}
		applyRows(k, a.Y, a.X, s, p)
	} else {
		p := ws.params(pstride * C)
		group := channelsPerBlock(s, 1)
		for c0 := 0; c0 < C; c0 += group {
			c1 := min(C, c0+group)
			for c := c0; c < c1; c++ {
				mean[c], variance[c] = momentsCF(k, ws.cfAcc[:], a.X, s, c)
				inv[c] = invStd(variance[c], a.Eps)
				q := p[c*pstride:]
				q[0], q[1], q[2], q[3] = normParams(mean[c], inv[c], at(a.Gamma, c, 1), at(a.Beta, c, 0))
			}
			applyChannels(k, a.Y, a.X, s, c0, c1, p)
		}
	}
	m := float64(s.M())
	mom := float64(a.Momentum)
	for c := range C {
		if a.Mean != nil {
			a.Mean[c] = float32(mean[c])
		}
		if a.Var != nil {
			a.Var[c] = float32(variance[c])
		}
		if a.InvStd != nil {
			a.InvStd[c] = float32(inv[c])
		}
		if a.RunningMean != nil {
			a.RunningMean[c] = float32((1-mom)*float64(a.RunningMean[c]) + mom*mean[c])
		}
		if a.RunningVar != nil {
			a.RunningVar[c] = float32((1-mom)*float64(a.RunningVar[c]) + mom*variance[c]*m/(m-1))
		}
	}
}

// Infer normalizes X into Y with the given statistics (the running ones):
//
//	y = (x - mean)*a + b,  a = gamma/sqrt(variance + eps), b = beta
//
// computed by the same kernels as Train with lo = 0.
func Infer(y, x []float32, s Shape, gamma, beta, mean, variance []float32, eps float32) {
	k := current()
	ws := getWorkspace()
	defer putWorkspace(ws)
	C := s.C
	if s.Len() == 0 {
		return
	}
	if s.rowMajor() {
		p := ws.params(4 * C)
		for c := range C {
			inv := invStd(float64(variance[c]), eps)
			p[c], p[C+c], p[2*C+c], p[3*C+c] = inferParams(mean[c], inv, at(gamma, c, 1), at(beta, c, 0))
		}
		applyRows(k, y, x, s, p)
		return
	}
	p := ws.params(pstride * C)
	for c := range C {
		inv := invStd(float64(variance[c]), eps)
		q := p[c*pstride:]
		q[0], q[1], q[2], q[3] = inferParams(mean[c], inv, at(gamma, c, 1), at(beta, c, 0))
	}
	applyChannels(k, y, x, s, 0, C, p)
}

// BackwardArgs holds the operands of Backward, checked by the caller as for
// TrainArgs.
type BackwardArgs struct {
	DX, DY, X []float32
	Shape     Shape
	// Mean and InvStd are the saved batch statistics (length C).
	Mean, InvStd []float32
	// Gamma is nil (ones) or of length C.
	Gamma []float32
	// DGamma and DBeta receive the parameter gradients when not nil.
	DGamma, DBeta []float32
}

// Backward computes the training-mode gradients. Mean is taken as the
// float32 rounding of the batch mean: the reduction also sums x - Mean, and
// the residual r = sum(x - Mean)/M corrects it, so that
//
//	dbeta  = sum(dy)
//	dotp   = sum(dy*(x - Mean)) - r*dbeta        (= sum(dy*(x - mean)))
//	dgamma = dotp*invstd
//	dx     = ((dy - dbeta/M) - ((x - Mean) - r)*dotp*invstd²/M)*gamma*invstd
func Backward(a *BackwardArgs) {
	k := current()
	ws := getWorkspace()
	defer putWorkspace(ws)
	s := a.Shape
	C := s.C
	if C == 0 {
		return
	}
	dg, db, _ := ws.moments(C)
	m := float64(s.M())
	if s.rowMajor() {
		sdy, dot, res := backwardSumsCL(k, ws, a.DY, a.X, s, a.Mean)
		p := ws.params(5 * C)
		for c := range C {
			dg[c], db[c] = gradients(sdy[c], dot[c], res[c], m, float64(a.InvStd[c]))
			p[c], p[C+c], p[2*C+c], p[3*C+c], p[4*C+c] = backwardParams(a.Mean[c], a.InvStd[c], at(a.Gamma, c, 1), sdy[c], dot[c], res[c], m)
		}
		forChunksRows(s, func(r0, nr int) {
			lo, hi := r0*C, (r0+nr)*C
			k.backwardApplyCL(a.DX[lo:hi], a.DY[lo:hi], a.X[lo:hi], nr, C, p)
		})
	} else {
		p := ws.params(pstride * C)
		group := channelsPerBlock(s, 2)
		acc := ws.cfAcc[:]
		for c0 := 0; c0 < C; c0 += group {
			c1 := min(C, c0+group)
			for c := c0; c < c1; c++ {
				sdy, dot, res := backwardSumsCF(k, acc, a.DY, a.X, s, c, a.Mean[c])
				dg[c], db[c] = gradients(sdy, dot, res, m, float64(a.InvStd[c]))
				q := p[c*pstride:]
				q[0], q[1], q[2], q[3], q[4] = backwardParams(a.Mean[c], a.InvStd[c], at(a.Gamma, c, 1), sdy, dot, res, m)
			}
			forChunksCF(s, c0, c1, func(off, n, c, runLen, cFirst int) {
				k.backwardApplyCF(cfSpan(a.DX, s, off, n, c, runLen), cfSpan(a.DY, s, off, n, c, runLen),
					cfSpan(a.X, s, off, n, c, runLen), n, c, runLen, s.C*s.S, p[cFirst*pstride:])
			})
		}
	}
	for c := range C {
		if a.DGamma != nil {
			a.DGamma[c] = float32(dg[c])
		}
		if a.DBeta != nil {
			a.DBeta[c] = float32(db[c])
		}
	}
}

func backwardSumsCF(k *kernels, acc []float64, dy, x []float32, s Shape, c int, mean float32) (sdy, dot, res float64) {
	acc = acc[:3*lanes]
	stride := s.C * s.S
	forSlabsCF(s, c, func(start, nruns, runLen, group int) {
		clear(acc)
		k.backwardCF(acc, span(dy, start, nruns, runLen, stride), span(x, start, nruns, runLen, stride),
			nruns, runLen, stride, group, mean)
		sdy += sumLanes(acc[:lanes])
		dot += sumLanes(acc[lanes : 2*lanes])
		res += sumLanes(acc[2*lanes:])
	})
	return sdy, dot, res
}

func backwardSumsCL(k *kernels, ws *workspace, dy, x []float32, s Shape, mean []float32) (sdy, dot, res []float64) {
	C, rows := s.C, s.rows()
	sdy, dot = ws.sums(C)
	res = grow64(&ws.aux64, C)
	clear(sdy)
	clear(dot)
	clear(res)
	acc := ws.acc(3 * phases * C)
	step := slabRowsCL(C)
	for r0 := 0; r0 < rows; r0 += step {
		nr := min(step, rows-r0)
		clear(acc)
		lo, hi := r0*C, (r0+nr)*C
		k.backwardCL(acc, dy[lo:hi], x[lo:hi], nr, C, mean)
		for c := range C {
			sdy[c] += sumPhases(acc, C, c)
			dot[c] += sumPhases(acc[phases*C:], C, c)
			res[c] += sumPhases(acc[2*phases*C:], C, c)
		}
	}
	return sdy, dot, res
}

func applyRows(k *kernels, y, x []float32, s Shape, p []float32) {
	C := s.C
	forChunksRows(s, func(r0, nr int) {
		lo, hi := r0*C, (r0+nr)*C
		k.applyCL(y[lo:hi], x[lo:hi], nr, C, p)
	})
}

func applyChannels(k *kernels, y, x []float32, s Shape, c0, c1 int, p []float32) {
	forChunksCF(s, c0, c1, func(off, n, c, runLen, cFirst int) {
		k.applyCF(cfSpan(y, s, off, n, c, runLen), cfSpan(x, s, off, n, c, runLen), n, c, runLen, s.C*s.S, p[cFirst*pstride:])
	})
}

// at returns v[c], or def when v is nil.
func at(v []float32, c int, def float32) float32 {
	if v == nil {
		return def
	}
	return v[c]
}

// invStd is 1/sqrt(variance + eps), and 0 where variance + eps is 0.
func invStd(variance float64, eps float32) float64 {
	d := variance + float64(eps)
	if d == 0 {
		return 0
	}
	return 1 / math.Sqrt(d)
}

// normParams returns hi, lo, a, b of the normalize kernels for a float64
// mean: hi + lo carries the mean to about 48 bits.
func normParams(mean, inv float64, gamma, beta float32) (hi, lo, a, b float32) {
	hi = float32(mean)
	lo = float32(mean - float64(hi))
	if math.IsInf(mean, 0) {
		lo = 0
	}
	return hi, lo, float32(float64(gamma) * inv), beta
}

func inferParams(mean float32, inv float64, gamma, beta float32) (hi, lo, a, b float32) {
	return mean, 0, float32(float64(gamma) * inv), beta
}

// gradients returns dgamma and dbeta from the backward sums.
func gradients(sdy, dot, res, m, inv float64) (dgamma, dbeta float64) {
	return (dot - res/m*sdy) * inv, sdy
}

// backwardParams returns hi, lo, k2, k3, k1 of the backward apply kernels.
func backwardParams(mean, invstd, gamma float32, sdy, dot, res, m float64) (hi, lo, k2, k3, k1 float32) {
	r := res / m
	inv := float64(invstd)
	dotp := dot - r*sdy
	return mean, float32(r), float32(sdy / m), float32(dotp * inv * inv / m), float32(float64(gamma) * inv)
}
