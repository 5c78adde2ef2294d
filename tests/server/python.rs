//! Conformance from the outside: twilio-python driving the server through a
//! custom HTTP client, and schemathesis against Twilio's OpenAPI spec. Both
//! need the venv in $CONVO_TEST_VENV (scripts/test makes it); without it they
//! skip with a notice, except under CI where that is a failure.
