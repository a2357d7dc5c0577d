package lambdaapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"tarn.dev/tarn/internal/awsapi"

	"tarn.dev/tarn/internal/store"
)

var accountPattern = regexp.MustCompile(`^\d{12}$`)

type permissionRequest struct {
	StatementID         *string `json:"StatementId"`
	Action              *string `json:"Action"`
	Principal           *string `json:"Principal"`
	SourceArn           *string `json:"SourceArn"`
	SourceAccount       *string `json:"SourceAccount"`
	EventSourceToken    *string `json:"EventSourceToken"`
	PrincipalOrgID      *string `json:"PrincipalOrgID"`
	FunctionURLAuthType *string `json:"FunctionUrlAuthType"`
	RevisionID          *string `json:"RevisionId"`
}

func (a *API) addPermission(r *http.Request) (int, any, error) {
	var in permissionRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case in.StatementID == nil:
		return 0, nil, awsapi.Required("statementId")
	case in.Action == nil:
		return 0, nil, awsapi.Required("action")
	case in.Principal == nil:
		return 0, nil, awsapi.Required("principal")
	}
	if err := awsapi.CheckLength(*in.StatementID, "statementId", 1, 100); err != nil {
		return 0, nil, err
	}
	if err := awsapi.CheckPattern(*in.StatementID, "statementId", statementIDPattern); err != nil {
		return 0, nil, err
	}
	if err := awsapi.CheckPattern(*in.Action, "action", actionPattern); err != nil {
		return 0, nil, err
	}
	if err := awsapi.CheckPattern(*in.Principal, "principal", principalPattern); err != nil {
		return 0, nil, err
	}
	if in.SourceAccount != nil {
		if err := awsapi.CheckPattern(*in.SourceAccount, "sourceAccount", accountPattern); err != nil {
			return 0, nil, err
		}
	}
	if in.FunctionURLAuthType != nil {
		if err := awsapi.CheckEnum(*in.FunctionURLAuthType, "functionUrlAuthType", "NONE", "AWS_IAM"); err != nil {
			return 0, nil, err
		}
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	res, err := a.resolve(ctx, t)
	if err != nil {
		return 0, nil, err
	}
	if err := checkRevision(in.RevisionID, res.rec.Config.RevisionID); err != nil {
		return 0, nil, err
	}
	stmt := map[string]any{
		"Sid":       *in.StatementID,
		"Effect":    "Allow",
		"Principal": principal(*in.Principal),
		"Action":    *in.Action,
		"Resource":  a.functionARN(t.name, t.qualifier),
	}
	cond := map[string]map[string]string{}
	add := func(op, key string, v *string) {
		if v != nil {
			if cond[op] == nil {
				cond[op] = map[string]string{}
			}
			cond[op][key] = *v
		}
	}
	add("ArnLike", "AWS:SourceArn", in.SourceArn)
	add("StringEquals", "AWS:SourceAccount", in.SourceAccount)
	add("StringEquals", "lambda:EventSourceToken", in.EventSourceToken)
	add("StringEquals", "aws:PrincipalOrgID", in.PrincipalOrgID)
	add("StringEquals", "lambda:FunctionUrlAuthType", in.FunctionURLAuthType)
	if len(cond) > 0 {
		stmt["Condition"] = cond
	}
	doc, _ := json.Marshal(stmt)
	err = a.cfg.Store.AddPermission(ctx, store.Permission{Name: t.name, Qualifier: t.qualifier, Sid: *in.StatementID, Statement: doc})
	if errors.As(err, new(*store.ExistsError)) {
		return 0, nil, conflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", *in.StatementID)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]string{"Statement": string(doc)}, nil
}

// principal renders the Principal member of a statement as Lambda does: a
// service, an account (as its root ARN), an ARN, or "*".
func principal(p string) any {
	switch {
	case p == "*":
		return "*"
	case accountPattern.MatchString(p):
		return map[string]string{"AWS": "arn:aws:iam::" + p + ":root"}
	case strings.HasPrefix(p, "arn:"):
		return map[string]string{"AWS": p}
	}
	return map[string]string{"Service": p}
}

func (a *API) getPolicy(r *http.Request) (int, any, error) {
	t, res, err := a.resolveRequest(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	perms, err := a.cfg.Store.Permissions(ctx, t.name, t.qualifier)
	if err != nil {
		return 0, nil, err
	}
	if len(perms) == 0 {
		return 0, nil, resourceNotFound("The resource you requested does not exist.")
	}
	stmts := make([]json.RawMessage, 0, len(perms))
	for _, p := range perms {
		stmts = append(stmts, p.Statement)
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": stmts})
	return http.StatusOK, map[string]string{"Policy": string(doc), "RevisionId": res.rec.Config.RevisionID}, nil
}

func (a *API) removePermission(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	sid := r.PathValue("StatementId")
	if err := awsapi.CheckPattern(sid, "statementId", statementIDPattern); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.resolve(ctx, t); err != nil {
		return 0, nil, err
	}
	err = a.cfg.Store.RemovePermission(ctx, t.name, t.qualifier, sid)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, resourceNotFound("Statement " + sid + " is not found in resource policy.")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
