package apigwapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/gateway"
	"tarn.dev/tarn/internal/store"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:MessageWall"

type world struct {
	client  *apigatewayv2.Client
	store   *store.Store
	changes atomic.Int32
	gw      *httptest.Server
	inv     *echoInvoker
}

// echoInvoker answers with the event's rawPath, so tests see what the
// gateway routed.
type echoInvoker struct{ calls atomic.Int32 }

func (e *echoInvoker) InvokeFunction(_ context.Context, fn string, payload []byte) ([]byte, string, error) {
	e.calls.Add(1)
	return []byte(`{"statusCode": 200, "body": "` + fn + `"}`), "", nil
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{store: st, inv: &echoInvoker{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := gateway.New(gateway.Config{Source: st, Invoker: w.inv, AccountID: "123456789012", Region: "us-east-1", Log: quiet})
	w.gw = httptest.NewServer(g)
	t.Cleanup(w.gw.Close)
	api := New(Config{Store: st, AccountID: "123456789012", Region: "us-east-1", Endpoint: func() string { return w.gw.URL }, Log: quiet,
		Changed: func() { w.changes.Add(1); g.Invalidate() }})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	w.client = apigatewayv2.New(apigatewayv2.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	return w
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func (w *world) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(w.gw.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestQuickCreate(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	out, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("wall"), ProtocolType: types.ProtocolTypeHttp,
		Target: aws.String(fnARN)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ApiId)
	if len(id) != 10 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("apiId %q is not 10 lower-case letters and digits", id)
	}
	if got, want := aws.ToString(out.ApiEndpoint), w.gw.URL+"/"+id; got != want {
		t.Errorf("apiEndpoint = %q, want %q", got, want)
	}
	if out.CreatedDate == nil || aws.ToString(out.RouteSelectionExpression) != "$request.method $request.path" {
		t.Errorf("CreateApi = %+v", out)
	}
	routes, err := w.client.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: out.ApiId})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes.Items) != 1 || aws.ToString(routes.Items[0].RouteKey) != "$default" || !aws.ToBool(routes.Items[0].ApiGatewayManaged) {
		t.Fatalf("routes = %+v, want one managed $default", routes.Items)
	}
	ints, err := w.client.GetIntegrations(ctx, &apigatewayv2.GetIntegrationsInput{ApiId: out.ApiId})
	if err != nil {
		t.Fatal(err)
	}
	if len(ints.Items) != 1 || ints.Items[0].IntegrationType != types.IntegrationTypeAwsProxy ||
		aws.ToString(ints.Items[0].PayloadFormatVersion) != "2.0" || aws.ToString(ints.Items[0].IntegrationUri) != fnARN ||
		aws.ToString(routes.Items[0].Target) != "integrations/"+aws.ToString(ints.Items[0].IntegrationId) {
		t.Fatalf("integrations = %+v", ints.Items)
	}
	stages, err := w.client.GetStages(ctx, &apigatewayv2.GetStagesInput{ApiId: out.ApiId})
	if err != nil {
		t.Fatal(err)
	}
	if len(stages.Items) != 1 || aws.ToString(stages.Items[0].StageName) != "$default" || !aws.ToBool(stages.Items[0].AutoDeploy) {
		t.Fatalf("stages = %+v", stages.Items)
	}
	// The endpoint serves at once: any path, through the $default route.
	if code, body := w.get(t, "/"+id+"/anything?x=1"); code != 200 || body != fnARN {
		t.Errorf("GET endpoint = %d %q", code, body)
	}
	if code, _ := w.get(t, "/anything"); code != 200 {
		t.Errorf("GET /anything with a single API = %d, want 200", code)
	}
}

func TestQuickCreateWithRouteKey(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	out, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("wall"), ProtocolType: types.ProtocolTypeHttp,
		Target: aws.String(fnARN), RouteKey: aws.String("ANY /MessageWall")})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := w.get(t, "/MessageWall"); code != 200 {
		t.Errorf("GET /MessageWall = %d, want 200", code)
	}
	if code, body := w.get(t, "/Other"); code != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("GET /Other = %d %s, want 404", code, body)
	}
	// A named stage appears under its own prefix as soon as it is made.
	if _, err := w.client.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: out.ApiId, StageName: aws.String("default"),
		AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.get(t, "/default/MessageWall"); code != 200 {
		t.Errorf("GET /default/MessageWall = %d, want 200 after CreateStage", code)
	}
}

func TestBuildAnAPIByHand(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	api, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: types.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
		IntegrationType: types.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fnARN),
		PayloadFormatVersion: aws.String("1.0"), TimeoutInMillis: aws.Int32(5000)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(integ.TimeoutInMillis) != 5000 || aws.ToString(integ.PayloadFormatVersion) != "1.0" || len(aws.ToString(integ.IntegrationId)) != 7 {
		t.Errorf("CreateIntegration = %+v", integ)
	}
	target := aws.String("integrations/" + aws.ToString(integ.IntegrationId))
	rt, err := w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /items/{id}"), Target: target})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /items/{id}"), Target: target})
	wantCode(t, err, "ConflictException")
	st, err := w.client.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("default"),
		AutoDeploy: aws.Bool(true), StageVariables: map[string]string{"table": "items-v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.StageVariables["table"] != "items-v1" || !aws.ToBool(st.AutoDeploy) {
		t.Errorf("CreateStage = %+v", st)
	}
	_, err = w.client.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("default")})
	wantCode(t, err, "ConflictException")
	got, err := w.client.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("default")})
	if err != nil || got.StageVariables["table"] != "items-v1" {
		t.Errorf("GetStage = %+v, %v", got, err)
	}
	if code, _ := w.get(t, "/default/items/42"); code != 200 {
		t.Errorf("GET /default/items/42 = %d", code)
	}
	if code, _ := w.get(t, "/default/items"); code != 404 {
		t.Errorf("GET /default/items = %d, want 404", code)
	}

	// An integration a route targets cannot go; after the route, it can.
	_, err = w.client.DeleteIntegration(ctx, &apigatewayv2.DeleteIntegrationInput{ApiId: api.ApiId, IntegrationId: integ.IntegrationId})
	wantCode(t, err, "ConflictException")
	if _, err := w.client.DeleteRoute(ctx, &apigatewayv2.DeleteRouteInput{ApiId: api.ApiId, RouteId: rt.RouteId}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.get(t, "/default/items/42"); code != 404 {
		t.Errorf("GET after DeleteRoute = %d, want 404 (the gateway reloads on change)", code)
	}
	if _, err := w.client.DeleteIntegration(ctx, &apigatewayv2.DeleteIntegrationInput{ApiId: api.ApiId, IntegrationId: integ.IntegrationId}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.GetRoute(ctx, &apigatewayv2.GetRouteInput{ApiId: api.ApiId, RouteId: rt.RouteId})
	wantCode(t, err, "NotFoundException")
	if _, err := w.client.DeleteStage(ctx, &apigatewayv2.DeleteStageInput{ApiId: api.ApiId, StageName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: api.ApiId}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: api.ApiId})
	wantCode(t, err, "NotFoundException")
	_, err = w.client.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: api.ApiId})
	wantCode(t, err, "NotFoundException")
	if n := w.changes.Load(); n != 8 {
		t.Errorf("Changed called %d times, want 8 (once per successful write)", n)
	}
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	api, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: types.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
		IntegrationType: types.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fnARN)})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(integ.PayloadFormatVersion); v != "2.0" {
		t.Errorf("default payloadFormatVersion = %q, want 2.0", v)
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"websocket", func() error {
			_, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: types.ProtocolTypeWebsocket})
			return err
		}, "BadRequestException"},
		{"target that is no function", func() error {
			_, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: types.ProtocolTypeHttp,
				Target: aws.String("https://example.com")})
			return err
		}, "BadRequestException"},
		{"routeKey without target", func() error {
			_, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: types.ProtocolTypeHttp,
				RouteKey: aws.String("GET /")})
			return err
		}, "BadRequestException"},
		{"quick create with bad route key", func() error {
			_, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("x"), ProtocolType: types.ProtocolTypeHttp,
				Target: aws.String(fnARN), RouteKey: aws.String("GET items")})
			return err
		}, "BadRequestException"},
		{"HTTP_PROXY integration", func() error {
			_, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
				IntegrationType: types.IntegrationTypeHttpProxy, IntegrationUri: aws.String("https://example.com")})
			return err
		}, "BadRequestException"},
		{"timeout too long", func() error {
			_, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
				IntegrationType: types.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fnARN), TimeoutInMillis: aws.Int32(30001)})
			return err
		}, "BadRequestException"},
		{"payload format 3.0", func() error {
			_, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId,
				IntegrationType: types.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fnARN), PayloadFormatVersion: aws.String("3.0")})
			return err
		}, "BadRequestException"},
		{"integration on a missing API", func() error {
			_, err := w.client.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: aws.String("nope000000"),
				IntegrationType: types.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fnARN)})
			return err
		}, "NotFoundException"},
		{"greedy variable in the middle", func() error {
			_, err := w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /{proxy+}/x")})
			return err
		}, "BadRequestException"},
		{"target of another form", func() error {
			_, err := w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /"),
				Target: integ.IntegrationId})
			return err
		}, "BadRequestException"},
		{"target integration missing", func() error {
			_, err := w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /"),
				Target: aws.String("integrations/nope123")})
			return err
		}, "BadRequestException"},
		{"IAM authorization", func() error {
			_, err := w.client.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /"),
				AuthorizationType: types.AuthorizationTypeAwsIam})
			return err
		}, "BadRequestException"},
		{"stage name with a slash", func() error {
			_, err := w.client.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("a/b")})
			return err
		}, "BadRequestException"},
		{"stage variable with a space", func() error {
			_, err := w.client.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("dev"),
				StageVariables: map[string]string{"k": "a b"}})
			return err
		}, "BadRequestException"},
		{"missing stage", func() error {
			_, err := w.client.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("nope")})
			return err
		}, "NotFoundException"},
		{"missing integration", func() error {
			_, err := w.client.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: api.ApiId, IntegrationId: aws.String("nope123")})
			return err
		}, "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code) })
	}
}

func TestMalformedBodyAndUnknownOperation(t *testing.T) {
	w := newWorld(t)
	st := w.store
	api := New(Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/v2/apis", `{"name": `, 400, "BadRequestException"},
		{"POST", "/v2/apis", `{"name": 5, "protocolType": "HTTP"}`, 400, "BadRequestException"},
		{"GET", "/v2/domainnames", ``, 404, "NotFoundException"},
	} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if rec.Code != tc.status || rec.Header().Get("x-amzn-ErrorType") != tc.code || !strings.HasPrefix(rec.Body.String(), `{"message":`) {
			t.Errorf("%s %s %q = %d %s %s", tc.method, tc.path, tc.body, rec.Code, rec.Header().Get("x-amzn-ErrorType"), rec.Body)
		}
	}
}

func TestGetApisPages(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	for i := 0; i < 3; i++ {
		if _, err := w.client.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("a"), ProtocolType: types.ProtocolTypeHttp}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	var token *string
	for pages := 0; ; pages++ {
		out, err := w.client.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("2"), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Items {
			seen[aws.ToString(a.ApiId)] = true
		}
		if token = out.NextToken; token == nil {
			break
		}
		if pages > 3 {
			t.Fatal("GetApis does not stop paging")
		}
	}
	if len(seen) != 3 {
		t.Errorf("GetApis saw %d APIs over its pages, want 3", len(seen))
	}
}

func TestAuthorizeSeesActionAndResource(t *testing.T) {
	w := newWorld(t)
	var action, resource string
	api := New(Config{Store: w.store, Region: "us-east-1", Authorize: func(_ context.Context, a, r string) error {
		action, resource = a, r
		return errors.New("denied")
	}, Now: func() time.Time { return time.Unix(0, 0) }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("DELETE", "/v2/apis/abc1234567", nil))
	if action != "apigateway:DELETE" || resource != "arn:aws:apigateway:us-east-1::/apis/abc1234567" || rec.Code != 500 {
		t.Errorf("Authorize(%q, %q) → %d", action, resource, rec.Code)
	}
}
