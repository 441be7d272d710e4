package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/app"
	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/metrics"
	"github.com/housekeeper-app/housekeeper/internal/reconcile"
	"github.com/housekeeper-app/housekeeper/internal/runner"
	"github.com/housekeeper-app/housekeeper/internal/server"
)

// exitServeFailed is serve's status when the server stops on an error.
const exitServeFailed = 1

// AppDeps is what the App's handlers are built from: settings, logger,
// metrics, the GitHub client creator, the webhook secret and the pace.
type AppDeps = server.Deps

// appHandlers builds the App's webhook handlers. It is the one place the
// App plugs into the server; with no handlers every event is acknowledged
// with 202 and ignored.
var appHandlers = func(deps AppDeps) (*app.App, error) {
	return app.Build(deps), nil
}

func newServeCmd() *cobra.Command {
	var checkConfig bool
	cmd := &cobra.Command{
		Use:   "serve [--check-config]",
		Short: "Run the GitHub App's webhook server",
		Long: `Serves POST /api/github/hook, GET /healthz, GET /readyz and GET /metrics.

Settings come from the environment (GITHUB_APP_INTEGRATION_ID,
GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH,
GITHUB_APP_WEBHOOK_SECRET or GITHUB_APP_WEBHOOK_SECRET_PATH, GITHUB_V3_API_URL,
GITHUB_WEB_URL, HOUSEKEEPER_ADDR and HOUSEKEEPER_<KEY> for each tuning key)
and an optional YAML file named by HOUSEKEEPER_CONFIG; the environment wins.
See docs/server.md for every key and its default.

--check-config loads and validates the settings, prints them (secrets as
REDACTED) and exits 0, or prints every problem and exits 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), checkConfig, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&checkConfig, "check-config", false, "validate the settings, print them and exit")
	return cmd
}

func runServe(ctx context.Context, checkConfig bool, stdout, stderr io.Writer) error {
	cfg, err := server.Load(os.LookupEnv)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if checkConfig {
		if err := cfg.Describe(stdout); err != nil {
			return fmt.Errorf("print settings: %w", err)
		}
		fmt.Fprintln(stdout, "settings are valid")
		return nil
	}

	logger := server.NewLogger(cfg, stderr)
	m := metrics.New(version)
	cc, err := server.NewClientCreator(cfg, m, version, nil)
	if err != nil {
		return err
	}
	shared, err := server.NewBackend(cfg, m)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	defer shared.Close()
	bg := server.NewBackground(ctx, cfg.HandlerTimeout)
	defer func() {
		if n := bg.Close(5 * time.Second); n > 0 {
			logger.Warn().Int("dropped", n).Msg("deferred checks dropped at shutdown; a re-run or the next push checks those commits")
		}
	}()
	parts, err := appHandlers(AppDeps{
		Config:        cfg,
		Logger:        logger,
		Metrics:       m,
		ClientCreator: cc,
		WebhookSecret: cfg.WebhookSecret.Bytes(),
		ContentPace:   cfg.ContentPace,
		Later:         bg.Later,
		Shared:        shared,
	})
	if err != nil {
		return fmt.Errorf("build the App's handlers: %w", err)
	}
	handlers := parts.Handlers
	srv, err := server.NewShared(cfg, logger, m, shared, handlers...)
	if err != nil {
		return err
	}
	logger.Info().Str("version", version).Int("handlers", len(handlers)).Str("config_file", cfg.File).
		Str("shared_state", shared.Name).Msg("starting")
	if cfg.ReconcileInterval > 0 {
		// Listen first: the reconciler's redeliveries come here.
		if err := srv.Listen(); err != nil {
			return &exitError{code: exitServeFailed, err: err}
		}
		stop := startReconciler(ctx, cfg, cc, srv, logger, shared, m, parts.Runner)
		defer stop()
	}
	if parts.Runner != nil && parts.Auditor != nil && shared.Ping != nil {
		// Several replicas: deferred checks are taken by any replica, the
		// audit queue is worked by the leader.
		stop := startShared(ctx, parts, shared, m, logger)
		defer stop()
	}
	if err := srv.Run(ctx); err != nil {
		return &exitError{code: exitServeFailed, err: err}
	}
	return nil
}

// startReconciler runs the reconciler (docs/reliability.md) until ctx ends;
// stop waits for it. It stops asking for redeliveries as soon as shutdown
// begins.
//
// With the App's runner (rn), passes keep to the App's own hourly budget:
// while only its reserve is left, for minting installation tokens, they
// are skipped until the reset.
func startReconciler(ctx context.Context, cfg *server.Config, cc githubapp.ClientCreator, srv *server.Server, logger zerolog.Logger, shared *coord.Backend, m *metrics.Metrics, rn *runner.Runner) (stop func()) {
	o := reconcile.Options{
		Clients:  cc,
		Interval: cfg.ReconcileInterval,
		Handles:  srv.Handles,
		Room:     srv.RedeliveryRoom,
		RoomFor:  srv.RedeliveryRoomFor,
		Logger:   logger.With().Str("component", "reconciler").Logger(),
		OnPass: func(res reconcile.Result, err error) {
			var be *reconcile.BudgetError
			if errors.As(err, &be) {
				return // counted in housekeeper_api_budget_deferred_total
			}
			m.ReconcilerPass(err, res.Asked, res.AskErrors, res.Deferred, res.GaveUp)
		},
	}
	if rn != nil {
		o.Budget, o.Record = rn.ReconcileBudget, rn.RecordAppBudget
	}
	rec := reconcile.New(o)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if shared.Ping == nil { // one replica
			rec.Run(rctx)
			return
		}
		leader(shared, m, logger, "reconciler").Run(rctx, rec.Run)
	}()
	return func() {
		cancel()
		<-done
	}
}

// leaderTTL: a dead leader's role is taken over within about 20 s
// (the lease's 15 s and one 5 s attempt).
const leaderTTL = 15 * time.Second

// leader campaigns for a role (reconciler, auditor) among the replicas.
func leader(shared *coord.Backend, m *metrics.Metrics, logger zerolog.Logger, role string) *coord.Leader {
	return &coord.Leader{Locks: shared.Locks, Key: "leader:" + role, TTL: leaderTTL, OnChange: func(on bool) {
		m.Leading(role, on)
		// Milliseconds, finer than the log's timestamp, to order changes
		// across replicas.
		logger.Info().Str("role", role).Bool("leading", on).Int64("at_ms", time.Now().UnixMilli()).Msg("leadership changed")
	}}
}

// startShared runs the loops of several replicas: deferred checks (every
// replica), and the audit queue and the queue's consumer names (the
// leader).
func startShared(ctx context.Context, a *app.App, shared *coord.Backend, m *metrics.Metrics, logger zerolog.Logger) (stop func()) {
	sctx, cancel := context.WithCancel(logger.WithContext(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.Runner.RunDeferred(sctx)
	}()
	go func() {
		defer wg.Done()
		alog := logger.With().Str("component", "auditor").Logger()
		leader(shared, m, logger, "auditor").Run(alog.WithContext(sctx), func(ctx context.Context) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				pruneConsumers(ctx, shared.Queue, m)
			}()
			a.Auditor.Run(ctx)
			<-done
		})
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// consumerIdle: a consumer of the shared queue idle that long is a dead
// pod's (a live one reads several times a second while it has a worker
// free, and touches the entries it works on).
const consumerIdle = 10 * time.Minute

// pruneConsumers forgets, every minute until ctx ends, the queue's
// consumers idle past consumerIdle that hold no entries: each restarted
// pod is a new consumer, and the names would otherwise pile up.
func pruneConsumers(ctx context.Context, q coord.Queue, m *metrics.Metrics) {
	log := zerolog.Ctx(ctx)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := q.Prune(cctx, consumerIdle)
		cancel()
		if n > 0 {
			m.ConsumersPruned(n)
			log.Info().Int("consumers", n).Msg("forgot the queue consumers of replicas gone for good")
		}
		if err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("cannot prune the queue's consumers")
		}
	}
}
