// A scripted flow with openapi-fetch over the types openapi-typescript
// generates from the served document, against a live clientele; type-checked
// with `tsc --strict` before it runs. Environment: CLIENTELE_URL,
// CLIENTELE_ORG, CLIENTELE_KEY.
import createClient from "openapi-fetch";
import type { paths } from "./build/schema.js";

const base = process.env.CLIENTELE_URL!;
const org = process.env.CLIENTELE_ORG!;
const key = process.env.CLIENTELE_KEY!;

function check(condition: boolean, what: string, detail?: unknown): asserts condition {
  if (!condition) {
    throw new Error(`${what}: ${JSON.stringify(detail)}`);
  }
}

// The usual setup of a generated client: a bearer token; an API key is one.
const client = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${key}` } });
const organization = { organizationId: org };

const created = await client.POST("/v1/public-api/organizations/{organizationId}/customers", {
  params: { path: organization },
  body: {
    firstName: "Jane",
    lastName: "Doe",
    email: "jane.doe@example.com",
    phoneNumber: "+1-555-0100",
    language: "EN",
    address: { address1: "123 Main St", city: "Springfield", region: "IL", zip: "62701", country: "us" },
    metadata: { crmId: "A-17" },
  },
});
check(created.response.status === 201 && created.data !== undefined, "create", created.error);
const customer = created.data;
check(customer.phoneNumber === "+15550100" && customer.address?.country === "US", "normalised", customer);
const item = { organizationId: org, customerId: customer.id };

const fetched = await client.GET("/v1/public-api/organizations/{organizationId}/customers/{customerId}", {
  params: { path: item },
});
check(fetched.data?.id === customer.id, "get", fetched.error);

const page = await client.GET("/v1/public-api/organizations/{organizationId}/customers", {
  params: {
    path: organization,
    query: {
      limit: 10,
      offset: 0,
      q: "jane",
      email: "JANE.DOE@example.com",
      createdFrom: "2000-01-01T00:00:00Z",
      createdTo: "2100-01-01T00:00:00Z",
      sort: "-updatedTime",
      includeTotal: true,
    },
  },
});
check(page.data?.total === 1 && page.data.data[0]?.id === customer.id, "list", page.error);

const updated = await client.PUT("/v1/public-api/organizations/{organizationId}/customers/{customerId}", {
  params: { path: item },
  body: { lastName: "Smith", phoneNumber: null },
});
check(updated.data?.lastName === "Smith" && updated.data.phoneNumber === null && updated.data.revision === 2, "update", updated.error);

const minted = await client.POST("/v1/public-api/organizations/{organizationId}/tokens", {
  params: { path: organization },
  body: { scopes: ["customers:read", "customers:write"], customerId: customer.id, expiresIn: 300 },
});
check(minted.data !== undefined, "token", minted.error);
const form = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${minted.data.token}` } });
const asForm = await form.GET("/v1/public-api/organizations/{organizationId}/customers/{customerId}", {
  params: { path: item },
});
check(asForm.data?.id === customer.id, "token on its customer", asForm.error);
const refused = await form.GET("/v1/public-api/organizations/{organizationId}/customers", { params: { path: organization } });
check(refused.response.status === 403, "token on the list", refused.error);

const invalid = await client.POST("/v1/public-api/organizations/{organizationId}/customers", {
  params: { path: organization },
  body: { email: "nope", language: "xx" },
});
check(invalid.response.status === 422 && invalid.error !== undefined, "422", invalid.data);
const fields = "invalidFields" in invalid.error ? invalid.error.invalidFields.map((f) => f.field).sort() : [];
check(fields.join(",") === "email,language", "invalidFields", invalid.error);

const missing = await client.GET("/v1/public-api/organizations/{organizationId}/customers/{customerId}", {
  params: { path: { organizationId: org, customerId: "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e" } },
});
check(missing.response.status === 404 && missing.error?.status === 404, "404", missing.error);

const deleted = await client.DELETE("/v1/public-api/organizations/{organizationId}/customers/{customerId}", {
  params: { path: item },
});
check(deleted.response.status === 204, "delete", deleted.error);

// The change feed holds the three changes, oldest first (the sequencer
// numbers committed events every 50 ms).
let feed = await client.GET("/v1/public-api/organizations/{organizationId}/events", {
  params: { path: organization, query: { customerId: customer.id, limit: 10 } },
});
for (let tries = 0; tries < 100 && feed.data?.data.length !== 3; tries++) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  feed = await client.GET("/v1/public-api/organizations/{organizationId}/events", {
    params: { path: organization, query: { customerId: customer.id, limit: 10 } },
  });
}
const types = feed.data?.data.map((event) => event.type).join(",");
check(types === "customer.created,customer.updated,customer.deleted", "events", feed.error ?? types);

const endpoint = await client.POST("/v1/public-api/organizations/{organizationId}/webhook-endpoints", {
  params: { path: organization },
  body: { url: "https://hooks.example.com/clientele", events: ["customer.created", "customer.deleted"] },
});
check(endpoint.data?.secret?.startsWith("whsec_") === true, "webhook endpoint", endpoint.error);
const hook = { organizationId: org, endpointId: endpoint.data.id };
const disabled = await client.PUT("/v1/public-api/organizations/{organizationId}/webhook-endpoints/{endpointId}", {
  params: { path: hook },
  body: { enabled: false },
});
check(disabled.data?.enabled === false && disabled.data.secret === undefined, "disable", disabled.error);
const attempts = await client.GET("/v1/public-api/organizations/{organizationId}/webhook-endpoints/{endpointId}/deliveries", {
  params: { path: hook, query: { limit: 5 } },
});
check(attempts.data?.data.length === 0 && attempts.data.hasMore === false, "deliveries", attempts.error);
const removed = await client.DELETE("/v1/public-api/organizations/{organizationId}/webhook-endpoints/{endpointId}", {
  params: { path: hook },
});
check(removed.response.status === 204, "delete endpoint", removed.error);

console.log("typescript client: every step as expected");
