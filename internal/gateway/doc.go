// Package gateway is the data plane of Tarn's HTTP APIs (API Gateway v2,
// protocol HTTP): it serves every API on one listener, turns each request
// into a Lambda proxy event (payload format 2.0, or 1.0 for integrations
// that ask for it), invokes the function and maps its result back to HTTP.
//
// # Finding the API
//
// AWS gives each API its own host name (<apiId>.execute-api.<region>.amazonaws.com).
// Tarn serves all APIs on one address and finds a request's API by, in order:
//
//  1. the host name's first label, when it is an API id
//     (curl http://abc1234567.localhost:7751/…);
//  2. the first path segment, when it is an API id
//     (curl http://127.0.0.1:7751/abc1234567/default/MessageWall); the
//     segment plays the part of the host name and is not part of rawPath;
//  3. the only API, when exactly one exists
//     (curl http://127.0.0.1:7751/default/MessageWall).
//
// The management API reports apiEndpoint as http://HOST:PORT/<apiId>, which
// works however many APIs exist.
//
// # Stages and routes
//
// A path whose first segment names a stage is served by that stage, and the
// stage stays part of rawPath and requestContext.http.path; any other path
// goes to the $default stage, else 404. Every stage serves the API's
// current routes: Tarn deploys each change at once (as autoDeploy does) and
// keeps no deployment history. The route is the most specific match:
// the request's method without a greedy variable, then with one ({proxy+}),
// then ANY (without, then with), then the $default route; within a tier a
// literal segment beats {name}, which beats {name+}. Path parameters are
// percent-decoded per segment, so %2F stays inside its parameter.
//
// Routes are kept in memory and reloaded after Invalidate (the management
// API calls it on every change) or after Config.CacheAge.
//
// # Events
//
// Header names are lower-cased and repeated headers comma-joined; the
// Cookie header becomes the cookies array and is not repeated in headers;
// x-forwarded-for/port/proto and x-amzn-trace-id are added. The body is
// plain text for text/*, application/json, application/xml and
// application/javascript when it is valid UTF-8, and base64 otherwise
// (including no Content-Type and form data, as on AWS; text that is not
// UTF-8 is base64 so that no byte is lost). Query parameters are decoded and
// repeated ones comma-joined; a piece with malformed escapes is passed
// undecoded.
//
// # Results and errors
//
// Payload 2.0: an object with statusCode is the response (headers,
// multiValueHeaders, cookies as Set-Cookie, body, isBase64Encoded); a JSON
// string is the body as-is with content-type application/json; any other
// JSON is the body as JSON. Payload 1.0 needs an object with statusCode.
// A statusCode object without a content-type header gets none (the spec
// leaves AWS's choice unconfirmed). Every gateway answer is JSON
// {"message": …} with an apigw-requestid header, and is logged with the
// request id:
//
//	function error, invalid JSON, wrong result shape,
//	invoke failure, missing permission, panic          500 Internal Server Error
//	throttled                                           Config.ThrottleStatus (500 by default)
//	no API, stage, route, or a route without target     404 Not Found
//	no answer within the integration timeout (30 s)     503 Service Unavailable
//	body over 10 MB (also a function's ErrTooLarge)     413 Request Entity Too Large
//	request line and headers over 10,240 bytes          431 Request Header Fields Too Large
//	malformed path escapes, unreadable body             400 Bad Request
//
// On a timeout the function is not stopped: it runs to its own timeout, as
// on AWS. Function results must be 200–599; informational statuses are a
// wrong shape. Methods a route does not take fall through to ANY routes and
// $default, else 404, as on AWS.
package gateway
