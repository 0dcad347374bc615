#!/usr/bin/env bash
# `npm test`: type-check (core, Electron shell, renderer), unit tests, component tests of the
# views in Chromium, then bring up a Docker
# engine (see ensure-docker.sh), build the local test images, run the integration tests against
# the real engine and kubectl, the UI end-to-end tests in Debian's Chromium (ensure-chromium.sh),
# and the reliability suite (faults, engine restarts, a short soak).
# Ends with one summary line "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
status=0

step() { echo; echo "=== $* ==="; }

step "typecheck (tsc, svelte-check)"
npm run --silent typecheck || status=1

step "unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$out/unit.json" || status=1

step "component tests (the Svelte views in Debian Chromium, fake main process)"
# Looked for (and installed when missing) once, for the component and the end-to-end tests.
chromium=no
if bash scripts/ensure-chromium.sh >/dev/null; then chromium=yes; fi
if [ "$chromium" = yes ]; then
  npx vitest run --project component --reporter=default --reporter=json --outputFile.json="$out/component.json" || status=1
else
  echo "No Chromium: the component tests cannot run. Install it (Debian: apt-get install chromium)." >&2
  status=1
fi

step "Docker engine"
if bash scripts/ensure-docker.sh && TEST_IMAGE_VERSION=$(bash scripts/build-test-images.sh); then
  export TEST_IMAGE_VERSION
  step "integration tests (real Docker)"
  npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$out/integration.json" || status=1

  step "end-to-end UI tests (Debian Chromium, browser mode, real Docker)"
  if [ "$chromium" = yes ]; then
    npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$out/e2e.json" || status=1
  else
    echo "No Chromium: the UI tests cannot run. Install it (Debian: apt-get install chromium)." >&2
    status=1
  fi

  # Last: it restarts the Docker engine it started, which nothing else may be using meanwhile.
  step "reliability tests (crash mid-rollout, engine restarts, a 2-minute soak; npm run test:soak runs 20)"
  npx vitest run --project reliability --reporter=default --reporter=json --outputFile.json="$out/reliability.json" || status=1
else
  echo "No Docker engine: the integration tests cannot run. Install Docker (Debian: apt-get install docker.io) and start it." >&2
  status=1
fi

node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  const failed = [];
  for (const name of ["unit", "component", "integration", "e2e", "reliability"]) {
    const file = process.argv[1] + "/" + name + ".json";
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + (r.numTodoTests || 0);
    // A test file that failed to load has no tests to count: count it as one failure.
    for (const t of r.testResults || []) {
      if (t.status === "failed" && !(t.assertionResults || []).some((a) => a.status === "failed")) { f += 1; failed.push(`${name}: ${t.name} (did not load: ${(t.message || "").split("\n")[0]})`); }
      for (const a of t.assertionResults || []) if (a.status === "failed") failed.push(`${name}: ${t.name.replace(process.cwd() + "/", "")} > ${a.fullName}: ${((a.failureMessages || [])[0] || "").split("\n")[0].slice(0, 2000)}`);
    }
  }
  if (process.argv[2] !== "0" && f === 0) f = 1; // the type-check or the engine set-up failed
  console.log("");
  // The failures again, one line each, so that the end of a long log says what failed.
  for (const line of failed) console.log(`FAILED ${line}`);
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
' "$out" "$status"
rm -rf "$out"
exit $status
