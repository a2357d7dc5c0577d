package lambdaapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestDescriptionAndArchitecturesAreCheckedAlikeEverywhere checks that each
// operation taking a Description or Architectures member refuses the same
// bad values with the same answer.
func TestDescriptionAndArchitecturesAreCheckedAlikeEverywhere(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.create("f")
	if _, err := w.client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("f")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("f"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("d", 257)
	zip := base64.StdEncoding.EncodeToString(zipOf(t, appZip))
	create := `{"FunctionName":"n","Runtime":"python3.12","Handler":"app.handler","Role":"` + role + `","Code":{"ZipFile":"` + zip + `"},`
	const (
		tooLong  = "Member must have length less than or equal to 256"
		tooMany  = "Value 'x86_64,arm64' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"
		notKnown = "Value 'sparc' at 'architectures' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]"
	)
	cases := []struct {
		name, method, path, body, message string
	}{
		{"CreateFunction description", "POST", "/2015-03-31/functions", create + `"Description":"` + long + `"}`, tooLong},
		{"UpdateFunctionConfiguration description", "PUT", "/2015-03-31/functions/f/configuration", `{"Description":"` + long + `"}`, tooLong},
		{"PublishVersion description", "POST", "/2015-03-31/functions/f/versions", `{"Description":"` + long + `"}`, tooLong},
		{"CreateAlias description", "POST", "/2015-03-31/functions/f/aliases", `{"Name":"x","FunctionVersion":"1","Description":"` + long + `"}`, tooLong},
		{"UpdateAlias description", "PUT", "/2015-03-31/functions/f/aliases/live", `{"Description":"` + long + `"}`, tooLong},
		{"CreateFunction two architectures", "POST", "/2015-03-31/functions", create + `"Architectures":["x86_64","arm64"]}`, tooMany},
		{"CreateFunction unknown architecture", "POST", "/2015-03-31/functions", create + `"Architectures":["sparc"]}`, notKnown},
		{"UpdateFunctionCode two architectures", "PUT", "/2015-03-31/functions/f/code", `{"ZipFile":"` + zip + `","Architectures":["x86_64","arm64"]}`, tooMany},
		{"UpdateFunctionCode unknown architecture", "PUT", "/2015-03-31/functions/f/code", `{"ZipFile":"` + zip + `","Architectures":["sparc"]}`, notKnown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, w.url+c.path, strings.NewReader(c.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var out struct{ Message string }
			json.Unmarshal(body, &out)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-Errortype") != "ValidationException" ||
				!strings.Contains(out.Message, c.message) {
				t.Errorf("%s %s = %d %s %s, want 400 ValidationException containing %q", c.method, c.path, resp.StatusCode,
					resp.Header.Get("X-Amzn-Errortype"), body, c.message)
			}
		})
	}
}
