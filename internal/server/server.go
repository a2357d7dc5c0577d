// Package server wires Tarn's parts together for `tarn server`: the data
// directory, the control-plane store, the signed control API on one HTTP
// port (routed by the SigV4 service name), and clean shutdown.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"tarn.dev/tarn/internal/apigwapi"
	"tarn.dev/tarn/internal/blob/disk"
	"tarn.dev/tarn/internal/datadir"
	"tarn.dev/tarn/internal/efsapi"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/iamapi"
	"tarn.dev/tarn/internal/lambdaapi"
	"tarn.dev/tarn/internal/logs"
	"tarn.dev/tarn/internal/meta/sqlmeta"
	"tarn.dev/tarn/internal/runtimes"
	"tarn.dev/tarn/internal/scheduler"
	"tarn.dev/tarn/internal/store"
	"tarn.dev/tarn/internal/tarnapi"
)

// Defaults of a single-machine server.
const (
	DefaultListen        = "127.0.0.1:7750"
	DefaultGatewayListen = gateway.DefaultListen
	DefaultRegion        = "us-east-1"
)

// Config configures a server. The zero value of each field means its default.
type Config struct {
	DataDir string // default datadir.Default()
	Listen  string // control API address, default DefaultListen
	// GatewayListen is the address of the HTTP API gateway, default
	// DefaultGatewayListen; when Listen takes a free port (":0") and this is
	// unset, the gateway takes a free port too.
	GatewayListen string
	Region        string // default DefaultRegion
	// SkipSignatures turns off SigV4 verification. It exists only so that
	// benchmarks can measure what verification costs; never use it to serve.
	SkipSignatures bool
	Log            *slog.Logger // default: text to Out and to logs/server.log
	Out            io.Writer    // where the start-up banner goes, default os.Stderr
}

// Server is an opened Tarn server: its data directory and store, ready to
// serve the control API.
type Server struct {
	cfg       Config
	dir       datadir.Dir
	store     *store.Store
	metaDB    *sqlmeta.DB
	blocks    *disk.Store
	files     *filesvc.Service
	auth      *iamapi.Authorizer
	logs      *logs.Store
	sched     *scheduler.Scheduler
	lambda    *lambdaapi.API
	gateway   *gateway.Handler
	gwAddr    atomic.Value // string: the gateway's bound address, once Serve listens
	lockFile  *os.File
	logFile   *os.File
	created   bool
	accountID string
	root      datadir.Credentials
	control   *controlAPI
}

// Open prepares the data directory (creating it on first start, with a new
// root access key pair and account id), takes the data directory's lock and
// opens the store.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = datadir.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.GatewayListen == "" {
		cfg.GatewayListen = DefaultGatewayListen
		if strings.HasSuffix(cfg.Listen, ":0") {
			cfg.GatewayListen = net.JoinHostPort(hostOf(cfg.Listen), "0")
		}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Out == nil {
		cfg.Out = os.Stderr
	}
	s := &Server{cfg: cfg, dir: datadir.Dir{Path: cfg.DataDir}}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	if s.created, err = s.dir.Create(); err != nil {
		return nil, err
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	if s.cfg.Log == nil {
		s.logFile, err = os.OpenFile(s.dir.Logs()+"/server.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open server log: %w", err)
		}
		s.cfg.Log = slog.New(slog.NewTextHandler(io.MultiWriter(cfg.Out, s.logFile), nil))
	}
	if s.store, err = store.Open(ctx, s.dir.Database()); err != nil {
		return nil, err
	}
	if err := s.initAccount(ctx); err != nil {
		return nil, err
	}
	// File-system metadata shares the database file; data goes to blocks/.
	if s.metaDB, err = sqlmeta.OpenSQLite(s.dir.Database()); err != nil {
		return nil, err
	}
	// Blocks are written without their own fsyncs; an fsync or close of a
	// file makes everything durable with one sync of the data directory
	// (and of the block store, should blocks/ be another file system).
	if s.blocks, err = disk.Open(s.dir.Blocks(), disk.Options{DeferSync: true}); err != nil {
		return nil, fmt.Errorf("open block store: %w", err)
	}
	sync := func(ctx context.Context) error { return errors.Join(s.blocks.Sync(ctx), s.dir.Sync()) }
	s.files = filesvc.New(filesvc.Config{DB: s.metaDB, Blobs: s.blocks, Sync: sync, Log: s.cfg.Log})
	s.control = newControlAPI(s.cfg, s.store, s.cfg.Log)
	s.auth = iamapi.NewAuthorizer(s.store)
	s.control.auth = s.auth
	s.control.services["iam"] = iamapi.New(iamapi.Config{
		Store:      s.store,
		AccountID:  s.accountID,
		Log:        s.cfg.Log,
		Authorizer: s.auth,
		Caller: func(ctx context.Context) (string, bool) {
			id, ok := Caller(ctx)
			return id.AccessKeyID, ok
		},
	})
	s.control.services["elasticfilesystem"] = efsapi.New(efsapi.Config{
		Authorize:    s.authorize,
		Store:        s.store,
		AccountID:    s.accountID,
		Region:       s.cfg.Region,
		MountAddress: hostOf(s.cfg.Listen),
		Provisioner:  s.files,
		Usage:        s.files.Usage,
		Log:          s.cfg.Log,
	})
	arn := func(kind, id string) string {
		return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:%s/%s", s.cfg.Region, s.accountID, kind, id)
	}
	s.control.services[tarnapi.ServiceName] = tarnapi.New(tarnapi.Config{Files: s.files, Store: s.store,
		Access: s.clientAccess, ARN: arn})
	if err := s.finishCreating(ctx); err != nil {
		return nil, err
	}
	if err := s.openFunctions(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// lock takes an exclusive lock on the data directory so that two servers
// never share one.
func (s *Server) lock() error {
	f, err := os.OpenFile(s.dir.Path+"/lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data directory %s is in use by another tarn server", s.dir.Path)
		}
		return fmt.Errorf("lock data directory: %w", err)
	}
	s.lockFile = f
	return nil
}

// initAccount creates the account id and root key pair on first start and
// loads them on every start.
func (s *Server) initAccount(ctx context.Context) error {
	n, err := rand.Int(rand.Reader, big.NewInt(9e11))
	if err != nil {
		return err
	}
	if s.accountID, err = s.store.InitSetting(ctx, "account_id", fmt.Sprintf("%012d", n.Int64()+1e11)); err != nil {
		return err
	}
	fresh := datadir.NewCredentials()
	keyID, err := s.store.InitSetting(ctx, "root_access_key_id", fresh.AccessKeyID)
	if err != nil {
		return err
	}
	if keyID == fresh.AccessKeyID {
		if err := s.store.PutAccessKey(ctx, store.AccessKey{ID: fresh.AccessKeyID, Secret: fresh.SecretAccessKey,
			Principal: "arn:aws:iam::" + s.accountID + ":root", Created: time.Now()}); err != nil {
			return err
		}
	}
	k, err := s.store.AccessKey(ctx, keyID)
	if err != nil {
		return fmt.Errorf("root access key %s: %w", keyID, err)
	}
	s.root = datadir.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret}
	// The key file is for local clients; rewrite it if it was lost.
	if cur, err := s.dir.ReadRootCredentials(); err != nil || cur != s.root {
		if err := s.dir.WriteRootCredentials(s.root); err != nil {
			return fmt.Errorf("write root credentials: %w", err)
		}
	}
	return nil
}

// openFunctions wires Lambda: the log store, the scheduler of execution
// environments, the Lambda API over them, and the HTTP API gateway with its
// management API.
func (s *Server) openFunctions() error {
	var err error
	if s.logs, err = logs.Open(filepath.Join(s.dir.Logs(), "functions"), logs.Options{}); err != nil {
		return fmt.Errorf("open function logs: %w", err)
	}
	runtimeDir := filepath.Join(s.dir.Path, "runtime")
	if err := runtimes.PrepareBootstrap(runtimeDir); err != nil {
		// Functions still run: their bootstrap is compiled at each cold start.
		s.cfg.Log.Warn("python bootstrap not precompiled", "err", err)
		runtimeDir = ""
	}
	s.sched = scheduler.New(scheduler.Config{Logs: s.logs, Region: s.cfg.Region, RuntimeDir: runtimeDir, Log: s.cfg.Log})
	runner := &functions{sched: s.sched, srv: s, root: filepath.Join(s.dir.Path, "mounts"), mounts: map[string]string{}}
	s.lambda = lambdaapi.New(lambdaapi.Config{Store: s.store, AccountID: s.accountID, Region: s.cfg.Region,
		CodeRoot: s.dir.Code(), Runner: runner, CheckRole: s.checkRole, Logs: functionLogs{s.logs},
		Authorize: s.authorize, Log: s.cfg.Log})
	s.control.services["lambda"] = s.lambda
	s.gateway = gateway.New(gateway.Config{Source: s.store, Invoker: gateway.LambdaHandler{Handler: s.lambda},
		AccountID: s.accountID, Region: s.cfg.Region, Log: s.cfg.Log})
	s.control.services[apigwapi.ServiceName] = apigwapi.New(apigwapi.Config{Store: s.store, AccountID: s.accountID,
		Region: s.cfg.Region, Endpoint: s.gatewayEndpoint, Changed: s.gateway.Invalidate, Authorize: s.authorize,
		Log: s.cfg.Log})
	return nil
}

// gatewayEndpoint is the base URL of the HTTP API gateway.
func (s *Server) gatewayEndpoint() string {
	if a, ok := s.gwAddr.Load().(string); ok {
		return "http://" + a
	}
	return "http://" + s.cfg.GatewayListen
}

// finishCreating completes what a crash interrupted: resources recorded as
// creating (the record committed, provisioning not yet marked done) are
// provisioned again, which is idempotent, and made available.
func (s *Server) finishCreating(ctx context.Context) error {
	n, err := s.store.FinishCreating(ctx, func(fsID string) error { return s.files.ProvisionFileSystem(ctx, fsID) })
	if err != nil {
		return fmt.Errorf("finish interrupted creations: %w", err)
	}
	if n > 0 {
		s.cfg.Log.Info("finished creations interrupted by a crash", "resources", n)
	}
	return nil
}

// authorize checks the verified caller of ctx against IAM for action on
// resource. Requests without a verified caller only exist when signatures
// are skipped (benchmarks) and are allowed.
func (s *Server) authorize(ctx context.Context, action, resource string) error {
	id, ok := Caller(ctx)
	if !ok {
		return nil
	}
	return s.auth.Authorize(ctx, id.AccessKeyID, action, resource,
		map[string][]string{"aws:SecureTransport": {"false"}})
}

// clientAccess decides, as EFS does at mount time, what the verified caller
// of ctx may do with a file system: its identity policies and the file
// system's policy (the default policy when it has none) are evaluated for
// ClientMount, ClientWrite and ClientRootAccess. Local mounts never leave
// this host, so they count as secure transport.
func (s *Server) clientAccess(ctx context.Context, fsID, fsArn, apArn string) (mount, write, root bool, principal string, err error) {
	id, ok := Caller(ctx)
	if !ok {
		return true, true, true, "", nil
	}
	if principal, err = s.auth.Principal(ctx, id.AccessKeyID); err != nil {
		return false, false, false, "", err
	}
	identity, err := s.auth.IdentityPolicies(ctx, principal)
	if err != nil {
		return false, false, false, principal, err
	}
	var fsPolicy *iam.Policy
	doc, set, err := s.store.FileSystemPolicy(ctx, fsID)
	if err != nil {
		return false, false, false, principal, err
	}
	if set {
		if fsPolicy, err = iam.Parse(doc); err != nil {
			return false, false, false, principal, fmt.Errorf("policy of %s: %w", fsID, err)
		}
	}
	mount, write, root = iam.ClientAccess(identity, fsPolicy, principal, fsArn, apArn, true)
	return mount, write, root, principal, nil
}

// RootCredentials returns the root access key pair.
func (s *Server) RootCredentials() datadir.Credentials { return s.root }

// AccountID returns the account id of this Tarn.
func (s *Server) AccountID() string { return s.accountID }

// Handler returns the control API handler.
func (s *Server) Handler() http.Handler { return s.control }

// Files returns the file service.
func (s *Server) Files() *filesvc.Service { return s.files }

// Close unmounts the local mounts, closes the file systems and releases
// everything Open acquired.
func (s *Server) Close() error {
	var errs []error
	if s.lambda != nil {
		errs = append(errs, s.lambda.Close())
	}
	if s.sched != nil {
		errs = append(errs, s.sched.Close())
	}
	if s.files != nil {
		errs = append(errs, s.files.Close())
	}
	if s.blocks != nil {
		errs = append(errs, s.blocks.Close())
	}
	if s.metaDB != nil {
		errs = append(errs, s.metaDB.Close())
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.lockFile != nil {
		s.lockFile.Close()
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
	return errors.Join(errs...)
}

// Run opens a server, serves until ctx is cancelled, then shuts down cleanly.
func Run(ctx context.Context, cfg Config) error {
	s, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(ctx)
}

// Serve listens on the configured address and serves until ctx is cancelled.
func (s *Server) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	endpoint := "http://" + ln.Addr().String()
	if err := s.dir.WriteServerInfo(datadir.ServerInfo{Endpoint: endpoint, Region: s.cfg.Region, PID: os.Getpid()}); err != nil {
		ln.Close()
		return fmt.Errorf("write server info: %w", err)
	}
	defer s.dir.RemoveServerInfo()

	gln, err := net.Listen("tcp", s.cfg.GatewayListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s for the HTTP API gateway: %w", s.cfg.GatewayListen, err)
	}
	s.gwAddr.Store(gln.Addr().String())

	errLog := slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn)
	hs := &http.Server{Handler: s.control, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	gs := &http.Server{Handler: s.gateway, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	go func() { errc <- gs.Serve(gln) }()

	state := "opened"
	if s.created {
		state = "created"
	}
	fmt.Fprintf(s.cfg.Out, "tarn: data directory %s (%s)\n", s.dir.Path, state)
	fmt.Fprintf(s.cfg.Out, "tarn: control API (EFS, Lambda, IAM, API Gateway; signed with SigV4) at %s, region %s, account %s\n", endpoint, s.cfg.Region, s.accountID)
	fmt.Fprintf(s.cfg.Out, "tarn: HTTP API gateway at %s\n", s.gatewayEndpoint())
	fmt.Fprintf(s.cfg.Out, "tarn: credentials: eval \"$(tarn env --data %s)\", then aws --endpoint-url \"$TARN_ENDPOINT\" efs describe-file-systems\n", s.dir.Path)

	select {
	case err := <-errc:
		return fmt.Errorf("serve control API: %w", err)
	case <-ctx.Done():
	}
	s.cfg.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := errors.Join(hs.Shutdown(sctx), gs.Shutdown(sctx)); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(s.cfg.Out, "tarn: stopped")
	return nil
}

func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return "127.0.0.1"
	}
	return host
}
