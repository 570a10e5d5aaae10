"""A scripted flow with the Python client that openapi-python-client
generates from the served document, against a live clientele.

Environment: CLIENTELE_URL, CLIENTELE_ORG, CLIENTELE_KEY. The client is the
package `clientele_client` under build/python.
"""

import datetime
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "build", "python"))

from clientele_client import AuthenticatedClient  # noqa: E402
from clientele_client.api.customers import (  # noqa: E402
    create_customer,
    delete_customer,
    get_customer,
    list_customers,
    update_customer,
)
from clientele_client.api.events import list_events  # noqa: E402
from clientele_client.api.tokens import create_token  # noqa: E402
from clientele_client.api.webhooks import (  # noqa: E402
    create_webhook_endpoint,
    delete_webhook_endpoint,
    list_webhook_deliveries,
    update_webhook_endpoint,
)
from clientele_client.models import (  # noqa: E402
    AddressInput,
    Customer,
    CustomerInput,
    CustomerPage,
    EventPage,
    ListCustomersSort,
    MetadataInput,
    Problem,
    Token,
    TokenInput,
    TokenInputScopesItem,
    ValidationProblem,
    WebhookAttemptPage,
    WebhookEndpoint,
    WebhookEndpointChanges,
    WebhookEndpointInput,
    WebhookEndpointInputEventsItem,
)

base, org, key = os.environ["CLIENTELE_URL"], os.environ["CLIENTELE_ORG"], os.environ["CLIENTELE_KEY"]
# The generated client's usual setup: a bearer token; an API key is one.
client = AuthenticatedClient(base_url=base, token=key)

metadata = MetadataInput()
metadata["crmId"] = "A-17"
created = create_customer.sync(
    org,
    client=client,
    body=CustomerInput(
        first_name="Jane",
        last_name="Doe",
        email="jane.doe@example.com",
        phone_number="+1-555-0100",
        language="EN",
        address=AddressInput(address1="123 Main St", city="Springfield", region="IL", zip_="62701", country="us"),
        metadata=metadata,
    ),
)
assert isinstance(created, Customer), created
assert created.phone_number == "+15550100" and created.language == "en"
assert created.address is not None and created.address.country == "US"
assert created.metadata is not None and created.metadata["crmId"] == "A-17"

fetched = get_customer.sync(org, created.id, client=client)
assert isinstance(fetched, Customer) and fetched.id == created.id

page = list_customers.sync(
    org,
    client=client,
    limit=10,
    offset=0,
    q="jane",
    email="JANE.DOE@example.com",
    created_from=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
    created_to=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc),
    sort=ListCustomersSort.UPDATED_TIME_ASCENDING,
    include_total=True,
)
assert isinstance(page, CustomerPage), page
assert page.total == 1 and [c.id for c in page.data] == [created.id]

updated = update_customer.sync(org, created.id, client=client, body=CustomerInput(last_name="Smith", phone_number=None))
assert isinstance(updated, Customer), updated
assert updated.last_name == "Smith" and updated.phone_number is None and updated.revision == 2

token = create_token.sync(
    org,
    client=client,
    body=TokenInput(
        scopes=[TokenInputScopesItem.CUSTOMERS_READ, TokenInputScopesItem.CUSTOMERS_WRITE],
        customer_id=created.id,
        expires_in=300,
    ),
)
assert isinstance(token, Token), token
as_form = AuthenticatedClient(base_url=base, token=token.token)
assert isinstance(get_customer.sync(org, created.id, client=as_form), Customer)
refused = list_customers.sync_detailed(org, client=as_form)
assert refused.status_code == 403, refused

invalid = create_customer.sync(org, client=client, body=CustomerInput(email="nope", language="xx"))
assert isinstance(invalid, ValidationProblem), invalid
assert sorted(f.field for f in invalid.invalid_fields) == ["email", "language"]

missing = get_customer.sync(org, "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e", client=client)
assert isinstance(missing, Problem) and missing.status == 404, missing

deleted = delete_customer.sync_detailed(org, created.id, client=client)
assert deleted.status_code == 204, deleted
gone = get_customer.sync(org, created.id, client=client)
assert isinstance(gone, Problem) and gone.status == 404

# The change feed holds the three changes, oldest first (the sequencer
# numbers committed events every 50 ms).
for _ in range(100):
    feed = list_events.sync(org, client=client, customer_id=created.id, limit=10)
    assert isinstance(feed, EventPage), feed
    if len(feed.data) == 3:
        break
    time.sleep(0.05)
assert [e.type_ for e in feed.data] == ["customer.created", "customer.updated", "customer.deleted"], feed
assert feed.data[1].revision == 2 and not feed.has_more

endpoint = create_webhook_endpoint.sync(
    org, client=client, body=WebhookEndpointInput(url="https://hooks.example.com/clientele", events=[WebhookEndpointInputEventsItem.ALL])
)
assert isinstance(endpoint, WebhookEndpoint) and endpoint.secret.startswith("whsec_"), endpoint
disabled = update_webhook_endpoint.sync(org, endpoint.id, client=client, body=WebhookEndpointChanges(enabled=False))
assert isinstance(disabled, WebhookEndpoint) and disabled.enabled is False, disabled
attempts = list_webhook_deliveries.sync(org, endpoint.id, client=client, limit=5)
assert isinstance(attempts, WebhookAttemptPage) and attempts.data == [], attempts
assert delete_webhook_endpoint.sync_detailed(org, endpoint.id, client=client).status_code == 204

print("python client: every step as expected")
