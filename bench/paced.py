"""Creates customers at a steady rate, for bench/run: the time from commit to
webhook delivery is measured at a known write rate, not at saturation.

    python3 bench/paced.py URL ORG KEY RATE SECONDS
"""

import http.client
import sys
import threading
import time
import urllib.parse

url, org, key, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
THREADS = 8
parsed = urllib.parse.urlparse(url)
path = f"/v1/public-api/organizations/{org}/customers"
body = b'{"firstName":"Paced","lastName":"Writer","email":"paced@example.com"}'
headers = {"Authorization": f"ApiKey {key}", "Content-Type": "application/json"}
failures = []


def writer(offset: int) -> None:
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port)
    interval = THREADS / rate
    start = time.monotonic() + offset / rate
    n = 0
    while True:
        due = start + n * interval
        if due - start > seconds:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 201:
            failures.append(response.status)
        n += 1


threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(f"paced: {len(failures)} failures")
sys.exit(1 if failures else 0)
