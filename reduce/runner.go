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
//
// Run posts its job (post, then seq) and idle helpers, polling seq, join
// it: a load of a line another core just wrote. On this project's VM one
// cross-core round trip took 0.1-0.56 us (bench.Handoff) and a Run
// of empty tasks on a pool of two 0.74-0.88 us (BenchmarkPoolRun); handing
// the job over through a channel, as before, took 1.7-4.6 us in the same
// minutes. A helper that has polled for spinWait blocks on wake instead,
// and Run sends to wake only when some helper is asleep.
type pool struct {
	workers int
	seq     atomic.Uint64       // the number of jobs posted
	post    atomic.Pointer[job] // the latest job posted
	asleep  atomic.Int32        // helpers blocked, or about to block, on wake
	wake    chan struct{}
}

type job struct {
	n       int
	task    func(int)
	workers int          // the caller and its helpers
	wanted  atomic.Int32 // workers-1, for join: a late helper reads it while a Run sets up the job
	// gate is gen<<32 | gateClosed | the number of helpers that joined.
	// A helper joins only while the gate is open, and only up to workers-1
	// of them; the caller closes it once every task is claimed, and then
	// waits for the helpers that joined, and for no other. A helper that
	// comes late finds the gate closed (or the job reused, for a later
	// call, and joins that call if its gate is open) and touches nothing
	// else.
	gate     atomic.Uint64
	next     atomic.Int64 // the next task to take, past maxTasks
	done     atomic.Int64 // tasks finished
	finished atomic.Int32 // helpers that joined and are done with the job
	shares   [maxTasks]share
}

// share is worker w's share of the first maxTasks tasks, padded to 64
// bytes: two workers' counters lie 64 bytes apart and so never on one
// cache line, and a worker takes its own tasks without writing a line
// another core writes; only a worker that has run out takes from others.
type share struct {
	next atomic.Int64 // the next task of the share to run
	end  int64
	_    [48]byte
}

const gateClosed = 1 << 31

// maxTasks is the most tasks of one Run that are assigned to workers by
// index (and the most workers a Run uses): worker w of k first runs tasks
// [w*n/k, (w+1)*n/k), so that a worker meets the same part of a batch on
// every call and finds it in its own cache. A worker that has run out
// takes the others' unstarted tasks.
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
		p = &pool{workers: workers, wake: make(chan struct{}, workers)}
		for range workers - 1 {
			go p.serve()
		}
		pools[workers] = p
	}
	return p
}

func (p *pool) Workers() int { return p.workers }

func (p *pool) serve() {
	var seen uint64
	for {
		seen = p.wait(seen)
		if j := p.post.Load(); j != nil {
			if id, ok := j.join(); ok {
				j.work(id)
				j.finished.Add(1)
			}
		}
	}
}

// join admits a helper to j while its gate is open and it still wants
// helpers, and returns the helper's worker number (1, 2, ...).
func (j *job) join() (id int, ok bool) {
	for {
		g := j.gate.Load()
		joined := g & (gateClosed - 1)
		if g&gateClosed != 0 || joined >= uint64(j.wanted.Load()) {
			return 0, false
		}
		if j.gate.CompareAndSwap(g, g+1) {
			return int(joined) + 1, true
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

// wait returns the number of jobs posted once it is no longer seen:
// polling for up to spinWait, then blocking on wake.
func (p *pool) wait(seen uint64) uint64 {
	var deadline time.Time
	for i := 1; ; i++ {
		if s := p.seq.Load(); s != seen {
			return s
		}
		if i%256 != 0 {
			continue
		}
		// Let other goroutines of this P run (with GOMAXPROCS below the
		// worker count, the caller itself may be waiting for it).
		runtime.Gosched()
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(spinWait)
			continue
		}
		if now.Before(deadline) {
			continue
		}
		// Announce the sleep before the last look at seq: a Run that
		// posts after that look sees asleep and sends to wake.
		p.asleep.Add(1)
		if s := p.seq.Load(); s != seen {
			p.asleep.Add(-1)
			return s
		}
		<-p.wake
		p.asleep.Add(-1)
		deadline = time.Time{}
	}
}

func (p *pool) Run(n int, task func(int)) {
	if n <= 1 {
		serial{}.Run(n, task)
		return
	}
	j := jobs.Get().(*job)
	// A new generation, closed while the job is set up: a helper holding
	// the job from an earlier call joins nothing until the gate opens.
	gen := (j.gate.Load()>>32 + 1) & (1<<32 - 1)
	j.gate.Store(gen<<32 | gateClosed)
	j.n, j.task = n, task
	j.next.Store(maxTasks)
	j.done.Store(0)
	j.finished.Store(0)
	helpers := min(p.workers-1, n-1, maxTasks-1)
	j.workers = helpers + 1
	j.wanted.Store(int32(helpers))
	m := int64(min(n, maxTasks))
	for w := range int64(j.workers) {
		j.shares[w].next.Store(w * m / int64(j.workers))
		j.shares[w].end = (w + 1) * m / int64(j.workers)
	}
	j.gate.Store(gen << 32)
	p.post.Store(j)
	p.seq.Add(1)
	if p.asleep.Load() > 0 {
		for range helpers {
			select {
			case p.wake <- struct{}{}:
			default: // enough wake-ups are pending
			}
		}
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

// work runs tasks as worker id: its own share first, then what is left of
// the others' shares, then the tasks past maxTasks.
func (j *job) work(id int) {
	ran := int64(0)
	for k := range j.workers {
		sp := &j.shares[(id+k)%j.workers]
		for {
			i := sp.next.Add(1) - 1
			if i >= sp.end {
				break
			}
			j.task(int(i))
			ran++
		}
	}
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			break
		}
		j.task(i)
		ran++
	}
	j.done.Add(ran)
}
