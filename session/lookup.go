package session

import (
	"context"
	"sync"
	"time"

	"authserver/store"
)

// lookups batches the session reads of concurrent requests. Each request that misses the cache
// joins the pending list; when fewer than maxInFlight queries are running, it sends the whole
// list as one query at once (no timer, so a lone request waits for nothing). Requests that
// arrive while queries run gather into the next list, sent as soon as a query finishes. Under
// load one round trip then serves tens of requests, which is most of what the database and the
// driver spend per request; at low load every request still gets its own query immediately.
//
// A joined request has recorded the cache epoch before it joined, and its query starts after
// that, so the revocation guard of the cache holds for batched reads as for single ones.
type lookups struct {
	st          *store.Store
	maxInFlight int
	maxBatch    int

	mu       sync.Mutex // guards pending and inFlight
	pending  []*lookup
	inFlight int
}

// lookup is one request's read; res and err are set before done is closed.
type lookup struct {
	token string
	res   *store.SessionWithUser
	err   error
	done  chan struct{}
}

// batchTimeout bounds one batched query. It runs for several requests, so it is not cancelled
// with the request that happened to send it.
const batchTimeout = 10 * time.Second

// newLookups batches reads of st with at most maxInFlight queries running. Measured on 2 cores
// with PostgreSQL alongside, one or two in flight serve the most requests (bigger batches); more
// only help when the database is a network round trip away, which the caller's choice reflects.
func newLookups(st *store.Store, maxInFlight int) *lookups {
	return &lookups{st: st, maxInFlight: maxInFlight, maxBatch: 64}
}

// get returns the session and user for token, store.ErrNotFound when there is none.
func (l *lookups) get(ctx context.Context, token string) (*store.Session, *store.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err // a request already given up on sends no query
	}
	req := &lookup{token: token, done: make(chan struct{})}
	l.mu.Lock()
	l.pending = append(l.pending, req)
	var batch []*lookup
	if l.inFlight < l.maxInFlight {
		batch = l.takeLocked()
	}
	l.mu.Unlock()
	if batch != nil {
		l.run(context.WithoutCancel(ctx), batch)
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if req.err != nil {
		return nil, nil, req.err
	}
	if req.res == nil {
		return nil, nil, store.ErrNotFound
	}
	return &req.res.Session, &req.res.User, nil
}

// takeLocked removes up to maxBatch pending lookups and counts a query in flight for them.
func (l *lookups) takeLocked() []*lookup {
	n := min(len(l.pending), l.maxBatch)
	batch := l.pending[:n:n]
	l.pending = l.pending[n:]
	if len(l.pending) == 0 {
		l.pending = nil
	}
	l.inFlight++
	return batch
}

// run queries batch, answers its requests, then hands what gathered meanwhile to a new query
// (on another goroutine, so the caller's own answer is not held up by other people's reads).
func (l *lookups) run(parent context.Context, batch []*lookup) {
	ctx, cancel := context.WithTimeout(parent, batchTimeout)
	tokens := make([]string, len(batch))
	for i, r := range batch {
		tokens[i] = r.token
	}
	found, err := l.st.SessionsByTokens(ctx, tokens)
	cancel()
	for _, r := range batch {
		if err != nil {
			r.err = err
		} else if s, ok := found[r.token]; ok {
			r.res = &s
		}
		close(r.done)
	}
	l.mu.Lock()
	l.inFlight--
	var next []*lookup
	if len(l.pending) > 0 {
		next = l.takeLocked()
	}
	l.mu.Unlock()
	if next != nil {
		// Not parent: under steady load the chain of batches could go on for good, and it
		// should not keep the first request's context (and what hangs off it) alive that long.
		go l.run(context.Background(), next)
	}
}
