package apigwapi

import (
	"time"

	"tarn.dev/tarn/internal/store"
)

// Wire shapes, camelCase as API Gateway v2 sends them.

type apiOut struct {
	APIEndpoint               string            `json:"apiEndpoint"`
	APIGatewayManaged         bool              `json:"apiGatewayManaged,omitempty"`
	APIID                     string            `json:"apiId"`
	APIKeySelectionExpression string            `json:"apiKeySelectionExpression"`
	CreatedDate               string            `json:"createdDate"`
	Description               string            `json:"description,omitempty"`
	DisableExecuteAPIEndpoint bool              `json:"disableExecuteApiEndpoint"`
	IPAddressType             string            `json:"ipAddressType"`
	Name                      string            `json:"name"`
	ProtocolType              string            `json:"protocolType"`
	RouteSelectionExpression  string            `json:"routeSelectionExpression"`
	Tags                      map[string]string `json:"tags,omitempty"`
	Version                   string            `json:"version,omitempty"`
}

type integrationOut struct {
	APIGatewayManaged    bool   `json:"apiGatewayManaged,omitempty"`
	ConnectionType       string `json:"connectionType"`
	Description          string `json:"description,omitempty"`
	IntegrationID        string `json:"integrationId"`
	IntegrationMethod    string `json:"integrationMethod,omitempty"`
	IntegrationType      string `json:"integrationType"`
	IntegrationURI       string `json:"integrationUri"`
	PayloadFormatVersion string `json:"payloadFormatVersion"`
	TimeoutInMillis      int    `json:"timeoutInMillis"`
}

type routeOut struct {
	APIGatewayManaged bool   `json:"apiGatewayManaged,omitempty"`
	APIKeyRequired    bool   `json:"apiKeyRequired"`
	AuthorizationType string `json:"authorizationType"`
	OperationName     string `json:"operationName,omitempty"`
	RouteID           string `json:"routeId"`
	RouteKey          string `json:"routeKey"`
	Target            string `json:"target,omitempty"`
}

type stageOut struct {
	APIGatewayManaged bool              `json:"apiGatewayManaged,omitempty"`
	AutoDeploy        bool              `json:"autoDeploy"`
	CreatedDate       string            `json:"createdDate"`
	Description       string            `json:"description,omitempty"`
	LastUpdatedDate   string            `json:"lastUpdatedDate"`
	StageName         string            `json:"stageName"`
	StageVariables    map[string]string `json:"stageVariables,omitempty"`
	DefaultRoute      routeSettings     `json:"defaultRouteSettings"`
}

type routeSettings struct {
	DetailedMetricsEnabled bool `json:"detailedMetricsEnabled"`
}

type items[T any] struct {
	Items     []T    `json:"items"`
	NextToken string `json:"nextToken,omitempty"`
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (a *API) apiView(api store.API) apiOut {
	return apiOut{
		APIEndpoint: a.cfg.Endpoint() + "/" + api.ID, APIID: api.ID,
		APIKeySelectionExpression: "$request.header.x-api-key", CreatedDate: isoTime(api.Created),
		Description: api.Description, DisableExecuteAPIEndpoint: api.DisableExecuteAPIEndpoint, IPAddressType: "ipv4",
		Name: api.Name, ProtocolType: api.ProtocolType, RouteSelectionExpression: api.RouteSelectionExpression,
		Tags: api.Tags, Version: api.Version,
	}
}

func integrationView(i store.Integration) integrationOut {
	return integrationOut{
		APIGatewayManaged: i.Managed, ConnectionType: "INTERNET", Description: i.Description, IntegrationID: i.ID,
		IntegrationMethod: i.Method, IntegrationType: i.Type, IntegrationURI: i.URI,
		PayloadFormatVersion: i.PayloadFormatVersion, TimeoutInMillis: i.TimeoutMillis,
	}
}

func routeView(r store.Route) routeOut {
	return routeOut{APIGatewayManaged: r.Managed, AuthorizationType: r.AuthorizationType, OperationName: r.OperationName,
		RouteID: r.ID, RouteKey: r.RouteKey, Target: r.Target}
}

func stageView(s store.Stage) stageOut {
	return stageOut{APIGatewayManaged: s.Managed, AutoDeploy: s.AutoDeploy, CreatedDate: isoTime(s.Created),
		Description: s.Description, LastUpdatedDate: isoTime(s.Updated), StageName: s.Name, StageVariables: s.Variables}
}
