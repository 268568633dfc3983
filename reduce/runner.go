package reduce

import (
	"sync"
	"sync/atomic"
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
	n    int
	task func(int)
	next atomic.Int64
	wg   sync.WaitGroup
}

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
	for j := range p.jobs {
		j.work()
		j.wg.Done()
	}
}

func (p *pool) Run(n int, task func(int)) {
	if n <= 1 {
		serial{}.Run(n, task)
		return
	}
	j := jobs.Get().(*job)
	j.n, j.task = n, task
	j.next.Store(0)
	helpers := min(p.workers-1, n-1)
	j.wg.Add(helpers)
	for range helpers {
		p.jobs <- j
	}
	j.work()
	j.wg.Wait()
	j.task = nil
	jobs.Put(j)
}

func (j *job) work() {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.n {
			return
		}
		j.task(i)
	}
}
