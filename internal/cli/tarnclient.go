package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// tarnAPIError is an error answer of Tarn's own API.
type tarnAPIError struct {
	Status  int
	Code    string
	Message string
}

func (e *tarnAPIError) Error() string { return e.Code + ": " + e.Message }

// callTarn sends a SigV4-signed request to Tarn's own API (/tarn/v1/…, service
// name "tarn") and decodes a JSON answer into out (when not nil).
func (c *clientFlags) callTarn(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := c.sendSigned(ctx, "tarn", method, path, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		return &tarnAPIError{Status: resp.StatusCode, Code: resp.Header.Get("x-amzn-ErrorType"), Message: e.Message}
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// sendSigned sends a request with body for service to the server, signed
// with SigV4 by the credentials and region the flags find, and returns the
// answer whatever its status; the caller closes its body. contentType, when
// not empty, is sent as the Content-Type header.
func (c *clientFlags) sendSigned(ctx context.Context, service, method, path string, body []byte, contentType string) (*http.Response, error) {
	cfg, endpoint, err := c.awsConfig()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return http.DefaultClient.Do(req)
}
