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
	jobs    chan *job
}

type job struct {
	n       int
	task    func(int)
	workers int          // the caller and its helpers
	joined  atomic.Int32 // helpers that have taken the job
	claimed [maxTasks]atomic.Bool
	next    atomic.Int64 // the next task to take, past maxTasks
	done    atomic.Int64 // tasks finished
	out     atomic.Int32 // helpers that have not let go of the job yet
}

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
		p = &pool{workers: workers, jobs: make(chan *job, workers)}
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
		j := p.wait()
		j.work(int(j.joined.Add(1)))
		j.out.Add(-1)
	}
}

// spinWait is how long an idle worker polls for the next job before it
// blocks. Waking a blocked goroutine's thread takes tens of microseconds on
// a virtual machine, as long as a whole call on a cache-resident batch;
// a worker that polls picks up the next call (the next layer's, say) at
// once. OpenMP runtimes spin for the same reason, and far longer.
const spinWait = 200 * time.Microsecond

// wait returns the next job: polling for up to spinWait, then blocking.
func (p *pool) wait() *job {
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
	j.n, j.task = n, task
	j.next.Store(maxTasks)
	j.done.Store(0)
	j.joined.Store(0)
	for i := range min(n, maxTasks) {
		j.claimed[i].Store(false)
	}
	helpers := min(p.workers-1, n-1)
	j.workers = helpers + 1
	j.out.Store(int32(helpers))
	for range helpers {
		p.jobs <- j
	}
	j.work(0)
	// Wait for the helpers by polling, not by blocking: a blocked
	// goroutine's thread takes tens of microseconds to wake on a virtual
	// machine, as long as a whole call on a cache-resident batch.
	for i := 0; j.done.Load() < int64(n) || j.out.Load() > 0; i++ {
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
