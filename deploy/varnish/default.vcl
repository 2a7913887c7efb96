vcl 4.1;

# Varnish (7.1, Debian's varnish + varnish-modules) in front of the app servers.
# What it keeps: only what the app marks public with s-maxage (pages tagged by
# contentsite.proxy) and static files. What it never keeps: /admin/, /api/,
# anything with Authorization or a session cookie, any response that sets a cookie.
# The app purges by surrogate key (xkey) on commit. See deploy/README.md.

import std;
import var;
import xkey;

# The app server (gunicorn). The one line an operator edits; the tests render
# a copy with their own port (tests/test_proxy.py). Several app servers: copy this
# block once per server (app1, app2, ...) and put them in a round-robin director
# (deploy/README.md, "Several app servers"; deploy.servers.vcl_for does it for the drill).
backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {
        # Liveness (contentsite.health): no database, no cache, answered before the
        # host and HTTPS checks. Not /readyz: with the database down, the app's own
        # 503 page (and the cached pages here) should still be served.
        .request =
            "GET /healthz HTTP/1.1"
            "Host: localhost"
            "X-Forwarded-Proto: https"
            "Connection: close";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
        # Healthy from the start: the first requests need not wait for probes.
        .initial = 3;
    }
}

# Who may purge: the app servers. Add their addresses here.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.restarts == 0) {
        # Our own markers; never believe a client's.
        unset req.http.X-Proxy-Grace;
        unset req.http.X-Proxy-Pass;
        unset req.http.X-Proxy-None-Match;
    }

    # One id per request (the load balancer's, or ours): the app logs it, the reader gets it back.
    if (!req.http.X-Request-ID) {
        set req.http.X-Request-ID = "varnish-" + req.xid;
    }

    # A request's body is read whole before an app server is asked: gunicorn's sync workers read it as it comes,
    # so a client sending it slowly would hold one each (two such POSTs held every worker of a server). The largest
    # body the app takes is Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB; an import file ARTICLE_IMPORT_MAX_BYTES,
    # 2 MiB, with its form): a larger one is refused here (413), as the app would refuse it. The limit is
    # contentsite.proxy.MAX_REQUEST_BODY_BYTES (its tests keep both in step; the app's checks keep its limits under
    # it). A GET's or HEAD's body is never read by the app, so it is passed on as before.
    if (req.restarts == 0 && req.method != "GET" && req.method != "HEAD" &&
        (req.http.Content-Length || req.http.Transfer-Encoding)) {
        if (std.integer(req.http.Content-Length, 0) > 3145728 || !std.cache_req_body(3MB)) {
            return (synth(413, "Request Entity Too Large"));
        }
    }

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "PURGE needs an xkey-purge header"));
        }
        # A page being fetched now may have been worked out before the change that sends this purge: it reaches the
        # cache after the purge, which finds nothing to drop, and would be kept for its s-maxage. So every purge
        # leaves a mark (unique: this request's id), set before it drops anything, and a fetch that sees the mark
        # change while it runs delivers its page to whoever waits for it, never keeps it (vcl_backend_response).
        var.global_set("purged", req.xid);
        # Hard purge: the next request fetches, never the old page in grace.
        set req.http.X-Proxy-Purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.X-Proxy-Purged));
    }

    # Health probes (/healthz, /readyz) answer for one app server at one moment: never kept.
    if (req.url ~ "^/(healthz|readyz)/?(\?.*)?$") {
        return (pass);
    }
    # The admin and the partner API are never cached (API responses vary by key).
    if (req.url ~ "^/api/") {
        # The API answers whole documents (docs/openapi-v1.json has no 206 or 416): Varnish would otherwise cut a
        # passed 200 to a Range itself, where the app, asked directly, sends it all.
        unset req.http.Range;
        unset req.http.If-Range;
        return (pass);
    }
    if (req.url ~ "^/admin/") {
        return (pass);
    }
    # Someone logged in (or with a session): their pages are their own.
    if (req.http.Cookie ~ "(^|;\s*)sessionid=") {
        return (pass);
    }
    # Public pages read no cookie; dropping them lets everyone share one copy.
    # Other methods keep theirs (a triage form's POST needs its CSRF cookie).
    if (req.method == "GET" || req.method == "HEAD") {
        unset req.http.Cookie;
    }
    # A precondition is the app's to judge: Varnish judges only If-None-Match and If-Modified-Since against a kept
    # page, and would answer its 200 (or 304) to an If-Match or If-Unmodified-Since the page refuses (412).
    if (req.http.If-Match || req.http.If-Unmodified-Since) {
        return (pass);
    }

    # stale-while-revalidate honoured (see vcl_hit): this time round, fetch.
    if (req.http.X-Proxy-Grace == "revalidate") {
        set req.grace = 0s;
    } elsif (req.http.X-Proxy-Grace == "stale-if-error") {
        # That fetch failed: any old copy within its grace will do (req.grace survives a restart).
        set req.grace = 3650d;
    }
    # Falls through to the builtin vcl_recv: passes Authorization and other methods.
}

sub vcl_hash {
    # An http:// request may be answered with a redirect, an https:// one with the page.
    hash_data(req.http.X-Forwarded-Proto);
}

sub vcl_hit {
    # Varnish keeps an object for max(stale-while-revalidate, stale-if-error) after
    # its s-maxage (beresp.grace below). With the app healthy, only
    # stale-while-revalidate applies: past it, fetch the page now, not in the background.
    if (obj.ttl <= 0s && !req.http.X-Proxy-Grace && std.healthy(req.backend_hint) &&
        obj.ttl + std.duration(
            regsub(obj.http.Cache-Control, "^(?:.*[ ,])?stale-while-revalidate=([0-9]+).*$", "\1s"), 0s) <= 0s) {
        set req.http.X-Proxy-Grace = "revalidate";
        return (restart);
    }
}

sub vcl_pass {
    set req.http.X-Proxy-Pass = "1";
}

sub vcl_backend_fetch {
    # X-Proxy-Grace stays on the fetch (the app ignores it): vcl_backend_response reads it.
    unset bereq.http.X-Proxy-Pass;
    unset bereq.http.X-Proxy-Failed;
    # The last purge's mark as this fetch starts (see the PURGE branch of vcl_recv); a retry starts again.
    set bereq.http.X-Proxy-Purged-Before = "mark:" + var.global_get("purged");
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    # A failed refresh keeps the old page (stale-if-error): nothing replaces it, and a
    # reader waiting for it is sent back to it (vcl_synth).
    if (beresp.status >= 500 && (bereq.is_bgfetch || bereq.http.X-Proxy-Grace == "revalidate")) {
        return (abandon);
    }
    # A purge ran while this page was being fetched: it may show what the purge was sent to drop. It goes to the
    # readers who asked for it (it was live while they waited), and is not kept: the next request fetches again.
    if (bereq.http.X-Proxy-Purged-Before != "mark:" + var.global_get("purged")) {
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Never keep the admin, the API, or anything that sets a cookie.
    if (bereq.url ~ "^/(admin|api)/" || beresp.http.Set-Cookie) {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Keep only what the app marked cacheable; static files always are.
    if (!beresp.http.Cache-Control && bereq.url !~ "^/static/") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Varnish reads s-maxage into ttl and stale-while-revalidate into grace itself;
    # stale-if-error makes the grace longer, for when the app is down.
    if (beresp.http.Cache-Control ~ "stale-if-error=[0-9]+") {
        set beresp.http.X-Proxy-Stale-If-Error =
            regsub(beresp.http.Cache-Control, "^(?:.*[ ,])?stale-if-error=([0-9]+).*$", "\1s");
        if (std.duration(beresp.http.X-Proxy-Stale-If-Error, 0s) > beresp.grace) {
            set beresp.grace = std.duration(beresp.http.X-Proxy-Stale-If-Error, 0s);
        }
        unset beresp.http.X-Proxy-Stale-If-Error;
    }
    # A page whose content changes by itself at a time (a scheduled publication, with no job and no purge): no copy
    # of it, the stale one kept for errors included, is served past then (contentsite.proxy.UNTIL_HEADER; the app
    # bounds s-maxage and stale-while-revalidate itself). A date that does not parse counts as now.
    if (beresp.http.X-Proxy-Until) {
        if (beresp.ttl + beresp.grace > std.time(beresp.http.X-Proxy-Until, fallback=now) - now) {
            set beresp.grace = std.time(beresp.http.X-Proxy-Until, fallback=now) - now - beresp.ttl;
        }
        if (beresp.grace < 0s) {
            set beresp.grace = 0s;
        }
        unset beresp.http.X-Proxy-Until;
    }
    # After that, keep it a while for cheap conditional fetches (the app answers 304 to its ETag).
    set beresp.keep = 1h;
    # Falls through to the builtin: no-cache, private, Vary: * are not kept.
}

sub vcl_backend_error {
    # No answer at all from the app server (stopped, restarting, refusing connections): a
    # GET or HEAD is tried once more, which a round-robin director sends to another server.
    # A POST is never repeated. After that, a 503 (or vcl_deliver serves the old page, within
    # stale-if-error): the partner API's is a problem detail, a reader's the site's outage page (below).
    if (bereq.retries == 0 && (bereq.method == "GET" || bereq.method == "HEAD")) {
        # Which server failed, for a director that wants to skip it (deploy.servers.vcl_for).
        set bereq.http.X-Proxy-Failed = beresp.backend.name;
        return (retry);
    }
    # The partner API's errors are problem details (docs/openapi-v1.json: a 503 is `code` `unavailable` with
    # Retry-After), as the app's own 503 is (contentsite.middleware): never the builtin's HTML page. The instance is
    # the path, kept to the characters a JSON string takes as they are.
    if (bereq.url ~ "^/api/") {
        set beresp.status = 503;
        set beresp.reason = "Service Unavailable";
        set beresp.http.Content-Type = "application/problem+json";
        set beresp.http.Retry-After = "30";
        set beresp.http.Cache-Control = "no-store";
        set beresp.body = {"{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"The service is temporarily unavailable. Please try again later (see Retry-After).","instance":""} +
            regsuball(regsub(bereq.url, "[?#].*$", ""), "[^A-Za-z0-9/._~%!$&'()*+,;=:@-]", "") +
            {"","code":"unavailable""} + "}";
        return (deliver);
    }
    # Not the builtin "Guru Meditation" page (no language, no viewport, no advice): what the app says while
    # its database is down (templates/503.html), for a reader who may be frightened and on a phone, with the
    # numbers to call. Keep the numbers as TRIAGE_EMERGENCY_NUMBER and TRIAGE_URGENT_ADVICE_NAME/NUMBER, and
    # Retry-After as OUTAGE_RETRY_AFTER_SECONDS: manage.py check --deploy fails until they are (contentsite.E105).
    set beresp.http.Content-Type = "text/html; charset=utf-8";
    set beresp.http.Retry-After = "30";
    set beresp.http.Cache-Control = "no-store";
    set beresp.http.X-Proxy-Not-Sent = "";
    if (bereq.method != "GET" && bereq.method != "HEAD") {
        # A form's answers never reached the app: say so, and how to send them again.
        # (A header value holds no line break: the break is the page's, below.)
        set beresp.http.X-Proxy-Not-Sent = {"<p><strong>What you sent has not been received.</strong> Wait a minute, then go back and send it again.</p>"};
    }
    synthetic({"<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Temporarily unavailable</title>
  <style>
    body { margin: 0 auto; padding: 1rem; max-width: 46rem; color: #1b1b1b; background: #fff;
      font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      font-size: 1.125rem; line-height: 1.5; overflow-wrap: break-word; }
    h1 { font-size: 1.75rem; line-height: 1.25; }
    a { color: #0a4f8f; }
    a[href^="tel:"] { padding: 0.75rem 0.5rem; margin: 0 -0.5rem; }
    a:focus { outline: 3px solid #ffbf47; background: #ffbf47; color: #1b1b1b; }
    .emergency { margin: 1.5rem 0; padding: 0.75rem 1rem; border-left: 6px solid #a4262c; background: #fdecea; }
  </style>
</head>
<body>
<main>
  <h1>This page is temporarily unavailable</h1>
  <div class="emergency">
  <p><strong>In an emergency, call <a href="tel:999">999</a>.</strong></p>
  <p>If you are worried about a symptom now, contact your doctor or pharmacist, or call NHS 111 on <a href="tel:111">111</a>.</p>
  </div>
  "} + beresp.http.X-Proxy-Not-Sent + {"
  <p>Sorry, we cannot show this page at the moment. Nothing is wrong with your device or connection.</p>
  <p>Please try again in a minute. Articles you have opened recently may still load.</p>
</main>
</body>
</html>
"});
    unset beresp.http.X-Proxy-Not-Sent;
    return (deliver);
}

sub vcl_deliver {
    # The refresh failed (the app did not answer): the old page, if within stale-if-error.
    if (resp.status >= 500 && req.http.X-Proxy-Grace == "revalidate") {
        set req.http.X-Proxy-Grace = "stale-if-error";
        return (restart);
    }
    if (req.http.X-Proxy-Pass) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # Varnish compares If-None-Match with a kept page's ETag as one string (weakly): a list that names the page's
    # ETag, or "*", would get the whole page where the app answers 304 (RFC 9110, 13.1.2). Such a request is judged
    # here as the app judges it (each comma-separated member, spaces around it ignored, compared weakly) and the ETag
    # it names handed on, for Varnish's own comparison to make the 304. Only a kept page's 200: a passed response is
    # the app's own answer (it judged the request itself), and with a Range Varnish compares strongly.
    if (resp.status == 200 && !req.http.X-Proxy-Pass && !req.http.Range && req.http.If-None-Match &&
        resp.http.ETag) {
        set req.http.X-Proxy-None-Match = "," + regsuball(regsuball(req.http.If-None-Match,
            "[ \t]*,[ \t]*", ","), "^[ \t]+|[ \t]+$", "") + ",";
        if (req.http.X-Proxy-None-Match == ",*," ||
            std.strstr(req.http.X-Proxy-None-Match, "," + regsub(resp.http.ETag, "^W/", "") + ",") ||
            std.strstr(req.http.X-Proxy-None-Match, ",W/" + regsub(resp.http.ETag, "^W/", "") + ",")) {
            set req.http.If-None-Match = resp.http.ETag;
        }
        unset req.http.X-Proxy-None-Match;
    }
    # This request's id, not that of the request that filled the cache.
    set resp.http.X-Request-ID = req.http.X-Request-ID;
    # The keys and the page's time of change are for the proxy; readers need not see them.
    unset resp.http.xkey;
    unset resp.http.X-Proxy-Until;
}

sub vcl_synth {
    # The refresh failed (the app answered 5xx, abandoned above): the old page, as in vcl_deliver.
    if (resp.status >= 500 && req.http.X-Proxy-Grace == "revalidate") {
        set req.http.X-Proxy-Grace = "stale-if-error";
        return (restart);
    }
    # A body too large to read (vcl_recv): for the partner API, its documented problem detail, as the app's own 413.
    if (resp.status == 413 && req.url ~ "^/api/") {
        set resp.http.Content-Type = "application/problem+json";
        set resp.http.Cache-Control = "no-store";
        set resp.http.Connection = "close";
        set resp.body = {"{"type":"about:blank","title":"Request Entity Too Large","status":413,"detail":"The request body is larger than 2,000,000 bytes.","instance":""} +
            regsuball(regsub(req.url, "[?#].*$", ""), "[^A-Za-z0-9/._~%!$&'()*+,;=:@-]", "") +
            {"","code":"request_too_large""} + "}";
        return (deliver);
    }
    if (req.method == "PURGE") {
        # A line of text for the app's log, not Varnish's error page.
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = resp.reason + {"
"};
        return (deliver);
    }
}
