package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/views"
)

// A replay from a page that takes longer than replayWait runs on as a job
// the page polls for its progress. Jobs live in this process only, keyed by
// a random ID and bound to the admin who started them; with several
// replicas behind a load balancer, the poll must reach the same one
// (sticky sessions), else it reports the job as gone.

// replayWait is how long a page waits for a replay before showing progress.
const replayWait = 2 * time.Second

// replayJobTTL is how long a finished job's result is kept for its poll.
const replayJobTTL = 10 * time.Minute

// maxReplayJobs bounds the jobs kept at once; an admin starting more waits
// for one to finish or expire.
const maxReplayJobs = 16

type replayJob struct {
	owner string
	done  chan struct{}
	mu    sync.Mutex
	// progress, while running
	replayed     int
	since, until time.Time
	through      time.Time
	days         int
	simBase      string // where samples open in the simulator ("": the editor's form)
	result       views.ReplayProps
	finished     time.Time
}

type replayJobs struct {
	mu   sync.Mutex
	jobs map[string]*replayJob
}

// start runs the replay in the background and returns its job, or nil when
// too many are running.
func (js *replayJobs) start(owner string, days int, since, until time.Time, simBase string, run func(progress func(int, time.Time)) views.ReplayProps) (string, *replayJob) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.jobs == nil {
		js.jobs = map[string]*replayJob{}
	}
	for id, j := range js.jobs {
		j.mu.Lock()
		expired := !j.finished.IsZero() && time.Since(j.finished) > replayJobTTL
		j.mu.Unlock()
		if expired {
			delete(js.jobs, id)
		}
	}
	if len(js.jobs) >= maxReplayJobs {
		return "", nil
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	j := &replayJob{owner: owner, done: make(chan struct{}), since: since, until: until, through: since, days: days, simBase: simBase}
	js.jobs[id] = j
	go func() {
		res := run(func(n int, through time.Time) {
			j.mu.Lock()
			j.replayed, j.through = n, through
			j.mu.Unlock()
		})
		j.mu.Lock()
		j.result, j.finished = res, time.Now()
		j.mu.Unlock()
		close(j.done)
	}()
	return id, j
}

func (js *replayJobs) get(id, owner string) *replayJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.jobs[id]
	if j == nil || j.owner != owner {
		return nil // another admin's job is not found
	}
	return j
}

// progress is the job's state for the page.
func (j *replayJob) progress(id string) views.ReplayProgress {
	j.mu.Lock()
	defer j.mu.Unlock()
	pct := 0
	if span := j.until.Sub(j.since); span > 0 {
		pct = int(100 * j.through.Sub(j.since) / span)
	}
	return views.ReplayProgress{Job: id, SimBase: j.simBase, Replayed: j.replayed, Through: j.through.UTC().Format("2006-01-02 15:04 UTC"),
		Percent: min(max(pct, 0), 100)}
}

// replayRun replays in the background with progress; the page gets the
// result if it comes within replayWait, else a progress box that polls.
func (h *Policies) replayRun(c echo.Context, pol *policyeditor.Policy, policyID string, days int, simBase string) (views.ReplayProps, *views.ReplayProgress) {
	now := h.Now()
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	id, j := h.jobs.start(viewerFrom(c).User.ID, days, since, now, simBase, func(progress func(int, time.Time)) views.ReplayProps {
		// The job outlives the request; it gets its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		return h.replay(ctx, pol, policyID, days, now, progress)
	})
	if j == nil {
		return views.ReplayProps{Error: fmt.Sprintf("%d impact previews are running; wait for one to finish.", maxReplayJobs)}, nil
	}
	wait := h.ReplayWait
	if wait == 0 {
		wait = replayWait
	}
	select {
	case <-j.done:
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.result, nil
	case <-time.After(wait):
		p := j.progress(id)
		return views.ReplayProps{}, &p
	case <-c.Request().Context().Done():
		p := j.progress(id)
		return views.ReplayProps{}, &p
	}
}

// replayJob is the progress poll: the progress box again, or the result.
func (h *Policies) replayJob(c echo.Context) error {
	id := c.Param("job")
	j := h.jobs.get(id, viewerFrom(c).User.ID)
	if j == nil {
		return render(c, http.StatusOK, views.ReplayResult(views.ReplayProps{Error: "This preview is no longer available; run it again."}, ""))
	}
	select {
	case <-j.done:
		j.mu.Lock()
		res := j.result
		j.mu.Unlock()
		return render(c, http.StatusOK, views.ReplayResult(res, j.simBase))
	default:
		return render(c, http.StatusOK, views.ReplayProgressBox(j.progress(id)))
	}
}
