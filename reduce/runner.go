package reduce

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Runner spreads the tasks of one call over goroutines. Frameworks with
// their own worker pools implement it; Pool gives one. Whatever runs the
// tasks, results are bit-identical: work is cut at bounds that depend only
// on the shape, and partial sums are combined in a fixed order.
type Runner interface {
	// Workers is the number of tasks Run may run at once (at least 1).
	Workers() int
	// Run calls task(i) once for every i in [0, n), possibly concurrently,
	// and returns when all calls have returned.
	Run(n int, task func(i int))
}

// Serial runs every task on the calling goroutine.
var Serial Runner = serial{}

type serial struct{}

func (serial) Workers() int { return 1 }
func (serial) Run(n int, task func(int)) {
	for i := range n {
		task(i)
	}
}

// pool is a Runner with workers-1 persistent goroutines; the calling
// goroutine works too. A warm Run starts no goroutine and allocates
// nothing.
type pool struct {
	workers int
	jobs    chan offer
}

// offer is a call's invitation to a helper: generation gen of job j.
type offer struct {
	j   *job
	gen uint64
}

type job struct {
	n       int
	task    func(int)
	workers int // the caller and its helpers
	// gate is gen<<32 | gateClosed | the number of helpers that joined.
	// A helper joins only while the gate is open and of its offer's
	// generation; the caller closes it once every task is claimed, and then
	// waits for the helpers that joined, and for no other. A helper that
	// wakes late finds the gate closed (or the job reused, with a newer
	// generation) and touches nothing else.
	gate     atomic.Uint64
	claimed  [maxTasks]atomic.Bool
	next     atomic.Int64 // the next task to take, past maxTasks
	done     atomic.Int64 // tasks finished
	finished atomic.Int32 // helpers that joined and are done with the job
}

const gateClosed = 1 << 31

// maxTasks is the most tasks of one Run that are assigned to workers by
// index: worker w of k first runs tasks [w*n/k, (w+1)*n/k), so that a
// worker meets the same part of a batch on every call and finds it in its
// own cache. A worker that has run out steals the others' unstarted tasks.
const maxTasks = 64

var (
	jobs    = sync.Pool{New: func() any { return new(job) }}
	poolsMu sync.Mutex
	pools   = map[int]*pool{}
)

// Pool returns the process-wide Runner of the given number of workers
// (goroutines, the caller included), starting its goroutines on first use.
// Pool(1) (or less) is Serial.
func Pool(workers int) Runner {
	if workers <= 1 {
		return Serial
	}
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p := pools[workers]
	if p == nil {
		p = &pool{workers: workers, jobs: make(chan offer, workers)}
		for range workers - 1 {
			go p.serve()
		}
		pools[workers] = p
	}
	return p
}

func (p *pool) Workers() int { return p.workers }

func (p *pool) serve() {
	for {
		o := p.wait()
		if id, ok := o.j.join(o.gen); ok {
			o.j.work(id)
			o.j.finished.Add(1)
		}
	}
}

// join admits a helper to generation gen of j, if its gate is still open,
// and returns the helper's worker number (1, 2, ...).
func (j *job) join(gen uint64) (id int, ok bool) {
	for {
		g := j.gate.Load()
		if g>>32 != gen || g&gateClosed != 0 {
			return 0, false
		}
		if j.gate.CompareAndSwap(g, g+1) {
			return int(g&(gateClosed-1)) + 1, true
		}
	}
}

// spinWait is how long an idle worker polls for the next job before it
// blocks. Waking a blocked goroutine's thread takes tens to hundreds of
// microseconds on a virtual machine, as long as a whole call on a
// cache-resident batch, and the woken core runs slowly for a while: with
// 200 us, the first 8x512x7x7 Train on two workers after a 1 ms pause
// took 240 us (44 on one worker), with 2 ms 50 us. A worker that polls
// picks up the next call (the next layer's, say) at once. OpenMP runtimes
// spin for the same reason, and far longer (200 ms by default).
const spinWait = 2 * time.Millisecond

// wait returns the next job: polling for up to spinWait, then blocking.
func (p *pool) wait() offer {
	var deadline time.Time
	for i := 1; ; i++ {
		select {
		case j := <-p.jobs:
			return j
		default:
		}
		if i%64 != 0 {
			continue
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(spinWait)
		} else if now.After(deadline) {
			return <-p.jobs
		}
	}
}

func (p *pool) Run(n int, task func(int)) {
	if n <= 1 {
		serial{}.Run(n, task)
		return
	}
	j := jobs.Get().(*job)
	gen := (j.gate.Load()>>32 + 1) & (1<<32 - 1)
	j.gate.Store(gen << 32)
	j.n, j.task = n, task
	j.next.Store(maxTasks)
	j.done.Store(0)
	j.finished.Store(0)
	for i := range min(n, maxTasks) {
		j.claimed[i].Store(false)
	}
	helpers := min(p.workers-1, n-1)
	j.workers = helpers + 1
	for range helpers {
		p.jobs <- offer{j, gen}
	}
	j.work(0)
	// Every task is claimed now: close the gate, so that a helper still
	// asleep does not hold up the call. Waking a blocked goroutine's thread
	// takes hundreds of microseconds on a virtual machine (measured: the
	// first call after a pause of 8x512x7x7 Train on two workers took 240
	// us, against 44 on one), longer than a whole call on a cache-resident
	// batch.
	var joined uint64
	for {
		g := j.gate.Load()
		if j.gate.CompareAndSwap(g, g|gateClosed) {
			joined = g & (gateClosed - 1)
			break
		}
	}
	// Wait for the helpers that joined by polling, not by blocking, for
	// the same reason.
	for i := 0; j.done.Load() < int64(n) || j.finished.Load() < int32(joined); i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	j.task = nil
	jobs.Put(j)
}

// work runs tasks as worker id: its own first, then any left.
func (j *job) work(id int) {
	m := min(j.n, maxTasks)
	for i := id * m / j.workers; i < (id+1)*m/j.workers; i++ {
		j.run(i)
	}
	for i := range m {
		j.run(i)
	}
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			return
		}
		j.task(i)
		j.done.Add(1)
	}
}

// run runs task i < maxTasks unless another worker has claimed it.
func (j *job) run(i int) {
	if j.claimed[i].CompareAndSwap(false, true) {
		j.task(i)
		j.done.Add(1)
	}
}
