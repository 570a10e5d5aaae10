"""schemathesis hooks for .ci/fuzz: the state a request depends on, which a
document cannot state, made to hold for the requests schemathesis generates.
Every change here keeps a conforming request conforming; a value the
document refuses is left as drawn, so negative tests still run."""

import re
import uuid

import schemathesis

# The Idempotency-Key parameter's pattern, as the document states it.
IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")
# A well-formed id (cus_…, evt_…, att_…).
ID = re.compile(r"^[a-z]{3}_[0-9a-f]{32}$")
SCALAR = (str, int, float, bool)


def _fresh_idempotency_key(headers):
    # A key names one request (contract section 8): the same key with
    # another body is 422 by design, and a fuzzer draws the same few keys
    # for every operation.
    for name in list(headers or {}):
        if name.lower() == "idempotency-key" and IDEMPOTENCY_KEY.match(str(headers[name])):
            headers[name] = uuid.uuid4().hex


def _drop_made_up_cursors(query):
    # A cursor must name a record of this organization (422 otherwise) and
    # excludes the other cursor and a non-zero offset; ids the fuzzer makes
    # up name nothing.
    for name in ("startingAfter", "endingBefore"):
        if query and isinstance(query.get(name), str) and ID.match(query[name]):
            del query[name]


def _conforming_customer(body):
    # customFields names the organization's definitions (the fuzz
    # organization has none); shipping labels are unique case-insensitively.
    if not isinstance(body, dict):
        return
    fields = body.get("customFields")
    if isinstance(fields, dict) and all(isinstance(v, SCALAR) for v in fields.values()):
        body["customFields"] = None
    addresses = body.get("shippingAddresses")
    if isinstance(addresses, list) and all(
        isinstance(a, dict) and isinstance(a.get("label"), str) and a["label"].strip() for a in addresses
    ):
        for index, address in enumerate(addresses):
            address["label"] = f"Address {index}"


def _conforming_definition(body):
    # maxLength is a string field's option, allowedValues an enum's (and
    # required for it).
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return
    if body["type"] != "string":
        body.pop("maxLength", None)
    if body["type"] != "enum":
        body.pop("allowedValues", None)
    elif "allowedValues" not in body:
        body["allowedValues"] = ["a"]


def _conforming_token(body):
    # fields narrows a token bound to a customer: without customerId it is 422.
    if isinstance(body, dict) and body.get("customerId") is None:
        body.pop("fields", None)


# An import's file is text of either media type, sent as it is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# A file whose rows the import can read: the document says a text file, and
# cannot say which columns a CSV header may name.
IMPORT_FILES = {
    "text/csv": "firstName,email\nFuzz,fuzz@example.com\n",
    "application/x-ndjson": '{"firstName": "Fuzz"}\n',
}


def _conforming_import(case):
    if isinstance(case.body, str) and case.media_type in IMPORT_FILES:
        case.body = IMPORT_FILES[case.media_type]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _fresh_idempotency_key(case.headers)
    _drop_made_up_cursors(case.query)
    path = case.operation.path
    if path.endswith("/customers") or path.endswith("/customers/{customerId}"):
        _conforming_customer(case.body)
    if path.endswith("/custom-fields"):
        _conforming_definition(case.body)
    if path.endswith("/tokens"):
        _conforming_token(case.body)
    if path.endswith("/customers/imports") and case.method.upper() == "POST":
        _conforming_import(case)
