"""Probes for bench/scale.sh: rate-limit over-admission across instances, revocation propagation.

Over-admission: a tenant limited to L requests per minute gets 3 x L concurrent requests through the
balancer; every admission beyond L (plus what the budget refilled while the burst ran) is
over-admission, whose target is 0.
Propagation: a key is used on every instance (so each has it cached), revoked on the first, and the
others are asked until they refuse it; the time from the revoke's answer to the last refusal is the
propagation time (target <= 1 s).
"""
import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request


def call(method, url, key, body=None, tenant=None):
    headers = {"X-API-Key": key}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if tenant:
        headers["X-Tenant-ID"] = tenant
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def over_admission(args, limit, rounds):
    results = []
    for round_index in range(rounds):
        status, tenant = call("POST", args.instances[0] + "/v1/tenants", args.operator_key,
                              {"name": f"probe {round_index}", "plan": "free"})
        assert status == 201, (status, tenant)
        tenant_id = tenant["tenant_id"]
        status, body = call("PATCH", args.instances[0] + f"/v1/tenants/{tenant_id}", args.operator_key,
                            {"rate_limit_per_minute": limit})
        assert status == 200, (status, body)
        status, key = call("POST", args.instances[0] + "/v1/api-keys", args.operator_key,
                           {"name": "probe", "role": "client"}, tenant=tenant_id)
        assert status == 201, (status, key)
        secret = key["api_key"]
        count = 3 * limit
        barrier = threading.Barrier(count)
        statuses = []
        lock = threading.Lock()

        def one():
            barrier.wait()
            code, _ = call("GET", args.balancer + "/v1/jobs?limit=1", secret)
            with lock:
                statuses.append(code)

        threads = [threading.Thread(target=one) for _ in range(count)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        admitted = statuses.count(200)
        refilled = int(elapsed * limit / 60)
        results.append((admitted, statuses.count(429), limit + refilled, elapsed))
    return results


def propagation(args, trials):
    first, others = args.instances[0], args.instances[1:]
    delays = []
    for _ in range(trials):
        status, key = call("POST", first + "/v1/api-keys", args.operator_key, {"name": "revoke probe", "role": "client"},
                           tenant="test-tenant")
        assert status == 201, (status, key)
        for instance in args.instances:
            code, body = call("GET", instance + "/v1/me", key["api_key"])
            assert code == 200, (code, body)
        code, body = call("DELETE", first + f"/v1/api-keys/{key['key_id']}", args.operator_key)
        assert code == 200, (code, body)
        answered = time.monotonic()
        assert call("GET", first + "/v1/me", key["api_key"])[0] == 401
        pending = set(others)
        last = answered
        while pending and time.monotonic() - answered < 10:
            for instance in list(pending):
                if call("GET", instance + "/v1/me", key["api_key"])[0] == 401:
                    pending.discard(instance)
                    last = time.monotonic()
        assert not pending, f"still admitted after 10 s on {pending}"
        delays.append((last - answered) * 1000)
    return delays


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--operator-key", required=True)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--balancer", required=True)
    parser.add_argument("instances", nargs="+")
    args = parser.parse_args()

    rounds = over_admission(args, limit=20, rounds=5)
    over = sum(max(0, admitted - allowed) for admitted, _, allowed, _ in rounds)
    for admitted, refused, allowed, elapsed in rounds:
        print(f"burst of {admitted + refused} over {len(args.instances)} instances: {admitted} admitted, "
              f"{refused} refused, allowed {allowed} ({elapsed * 1000:.0f} ms)")
    print(f"rate-limit over-admission: {over} (target 0)")

    delays = sorted(propagation(args, args.trials))
    p99 = delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))]
    print(f"revocation propagation over {len(delays)} revokes: p50 {statistics.median(delays):.1f} ms, "
          f"p99 {p99:.1f} ms, max {delays[-1]:.1f} ms (target <= 1000 ms)")


if __name__ == "__main__":
    main()
