#!/usr/bin/env bash
# scripts/recipe-test.sh: proves the README's "Typed events → Adding an event"
# recipe on a throwaway event, test/recipe.checked, in a copy of the tree.
#
#   scripts/recipe-test.sh          (make test-recipe)
#
# It copies the files git knows (tracked, with their working-tree changes,
# and untracked ones that are not ignored) into a temporary directory, links
# the installed node_modules (never installs through a link), applies the
# README's steps word for word (step 1: the two schemas, step 2: the oneOf
# entry, step 3: the mapping entry, step 4: make generate), then proves:
#   - go build ./... and go vet ./api ./gen compile the generated server;
#   - Redocly lint (make lint-spec) passes, and the contract gate
#     (scripts/contract.sh) finds the change additive;
#   - api's TestCatalogueExamples, driven by the contract, sends the new
#     event's example (200) and refuses it without each required member and
#     with an unknown one, at that member's pointer;
#   - the built binary, with a session minted by next-auth and the real
#     Inngest dev server, publishes the new event (200, data unchanged in
#     Inngest), refuses it when it breaks its schema (400, the pointer of
#     the offending member), and accepts its name in events.disabled (403);
#   - the TypeScript client compiles sendEvents with the new event and does
#     not compile it with a wrong field (tsc), and the generated Inngest
#     event types have it.
# Nothing is written outside the temporary directory, which is removed.
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
GO=${GO:-go}
INNGEST=${INNGEST:-$repo/bin/inngest-v1.0.0}
for need in "$INNGEST" "$repo/testdata/mint/node_modules/next-auth" "$repo/clients/typescript/node_modules/typescript/bin/tsc" \
  "$repo/clients/typescript/node_modules/.bin/openapi-typescript" "$repo/clients/typescript/node_modules/inngest"; do
  [[ -e $need ]] || { echo "recipe-test: $need is missing: run 'make test-deps'" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/routeapi-recipe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "recipe-test: copying the tree into $tmp"
(
  cd "$repo"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -
) | tar -xf - -C "$tmp"
ln -s "$repo/testdata/mint/node_modules" "$tmp/testdata/mint/node_modules"
ln -s "$repo/clients/typescript/node_modules" "$tmp/clients/typescript/node_modules"
# make must never run npm ci through the link: its stamp is taken as up to
# date (make -o below) and as newer than the copied package files.
touch -d '2000-01-01' "$tmp"/clients/typescript/package{,-lock}.json "$tmp"/testdata/mint/package{,-lock}.json
cd "$tmp"

# ---- The README's recipe, step by step, for test/recipe.checked ----------
# insert_after FILE PATTERN TEXT: inserts TEXT after the first line matching
# PATTERN that follows the line "    CatalogueEvent:" (or, with PATTERN
# "^  schemas:$", after that line); fails if there is none.
insert_after() {
  local file=$1 pattern=$2 text=$3
  TEXT=$text awk -v pat="$pattern" '
    /^    CatalogueEvent:$/ { inCat = 1 }
    { print }
    !done && (inCat || pat == "^  schemas:$") && $0 ~ pat { print ENVIRON["TEXT"]; done = 1 }
    END { if (!done) exit 1 }
  ' "$file" >"$file.new" || { echo "recipe-test: no line matching $pattern in $file" >&2; exit 1; }
  mv "$file.new" "$file"
}

# Step 1: add the event's schema, <Name>Event (a name with one enum value and
# a data), and its data schema, <Name>Data, under components.schemas.
insert_after openapi.yaml '^  schemas:$' "$(cat <<'YAML'
    RecipeCheckedEvent:
      type: object
      description: A throwaway event of the recipe test (`test/recipe.checked`).
      required: [name, data]
      additionalProperties: false
      properties:
        name:
          type: string
          enum: [test/recipe.checked]
          description: The event name.
          example: test/recipe.checked
        data:
          $ref: '#/components/schemas/RecipeCheckedData'
    RecipeCheckedData:
      type: object
      description: What was checked, and how well.
      required: [checkId, score]
      additionalProperties: false
      properties:
        checkId:
          type: string
          description: The check's id.
          minLength: 1
          maxLength: 64
          example: chk_1
        score:
          type: integer
          description: 0 to 10.
          minimum: 0
          maximum: 10
          example: 7
      example:
        checkId: chk_1
        score: 7
YAML
)"
# Step 2: add it to CatalogueEvent's oneOf.
insert_after openapi.yaml '^      oneOf:$' "        - \$ref: '#/components/schemas/RecipeCheckedEvent'"
# Step 3: add its name to the discriminator's mapping.
insert_after openapi.yaml '^        mapping:$' "          test/recipe.checked: '#/components/schemas/RecipeCheckedEvent'"
# Step 4: make generate.
make --no-print-directory -o clients/typescript/node_modules/.installed generate
# ---------------------------------------------------------------------------

echo "recipe-test: the Go server compiles with the new event"
$GO build ./...
$GO vet ./api ./gen
grep -q 'RecipeCheckedEvent' gen/api.gen.go || { echo "recipe-test: gen/api.gen.go has no RecipeCheckedEvent" >&2; exit 1; }
grep -q 'test/recipe.checked' clients/typescript/src/schema.ts || { echo "recipe-test: schema.ts has no test/recipe.checked" >&2; exit 1; }

echo "recipe-test: the spec passes Redocly lint, and the change is additive (the contract gate against the tree's openapi.yaml)"
make --no-print-directory lint-spec
GO=$GO scripts/contract.sh --base "$repo/openapi.yaml" openapi.yaml

echo "recipe-test: the api handler's catalogue-driven test (TestCatalogueExamples) takes the new event from the contract"
out=$($GO test -count=1 -v -run '^TestCatalogueExamples$' ./api 2>&1) || { echo "$out" >&2; exit 1; }
grep -q -- '--- PASS: TestCatalogueExamples/test/recipe.checked ' <<<"$out" ||
  { echo "recipe-test: TestCatalogueExamples did not test test/recipe.checked:" >&2; echo "$out" >&2; exit 1; }

echo "recipe-test: the built binary publishes it to the real Inngest dev server, and refuses it when it breaks its schema"
make --no-print-directory build
cat >e2e/recipe_test.go <<'GO'
package e2e

import (
	"net/http"
	"testing"

	"github.com/routeapi/routeapi/internal/testkit/nextauthmint"
)

// TestRecipeEvent (written by scripts/recipe-test.sh into its copy only).
func TestRecipeEvent(t *testing.T) {
	inngest := startInngest(t)
	srv := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144), map[string]string{"INNGEST_BASE_URL": inngest.URL})
	v := nextauthmint.Mint(t, nextauthmint.Case{Name: "ada", Secret: srv.Secret, Claims: ada, MaxAge: 3600})[0]
	h := cookieHeader(v)
	h.Set("X-Request-Id", "recipe")

	sent := []sentEvent{{"test/recipe.checked", `{"checkId":"chk_1","score":7}`}, catalogueBatch()[1]}
	resp := srv.sendEvents(t, eventsBody(sent), h)
	if resp.Status != http.StatusOK {
		t.Fatalf("the new event: status %d, want 200: %s", resp.Status, resp.Body)
	}
	var answer sendEventsResponse
	resp.decode(t, &answer)
	if len(answer.EventIDs) != 2 || len(answer.IDs) != 2 {
		t.Fatalf("answer %s", resp.Body)
	}
	checkDelivered(t, inngest, sent, answer.EventIDs, answer.IDs, "recipe")

	for _, tc := range []struct{ data, pointer string }{
		{`{"checkId":"chk_1","score":11}`, "/events/1/data/score"},
		{`{"checkId":"chk_1","score":7,"extra":1}`, "/events/1/data/extra"},
	} {
		resp := srv.sendEvents(t, eventsBody([]sentEvent{catalogueBatch()[0], {"test/recipe.checked", tc.data}}), h)
		if resp.Status != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400: %s", tc.data, resp.Status, resp.Body)
		}
		var problem struct {
			Errors []struct {
				Pointer string `json:"pointer"`
			} `json:"errors"`
		}
		resp.decode(t, &problem)
		if len(problem.Errors) == 0 || problem.Errors[0].Pointer != tc.pointer {
			t.Errorf("%s: errors %+v, want the pointer %s", tc.data, problem.Errors, tc.pointer)
		}
	}

	// The settings may switch the new name off (a name the catalogue does
	// not have would stop the settings from loading).
	off := startRouteAPI(t, settingsYAML("e2e/route."+randomSuffix(), true, 262144)+"events:\n  disabled: [test/recipe.checked]\n",
		map[string]string{"INNGEST_BASE_URL": inngest.URL, "NEXTAUTH_SECRET": srv.Secret})
	if resp := off.sendEvents(t, eventsBody(sent[:1]), h); resp.Status != http.StatusForbidden || resp.problemType() != "event-disabled" {
		t.Errorf("a disabled new event: status %d, want 403 event-disabled: %s", resp.Status, resp.Body)
	}
}
GO
(cd e2e && ROUTEAPI_BIN="$tmp/bin/routeapi" INNGEST_BIN="$INNGEST" $GO test -count=1 -timeout 3m -run '^TestRecipeEvent$' ./...)

echo "recipe-test: the TypeScript client and the generated Inngest triggers type the new event"
cd clients/typescript
grep -q '"test/recipe.checked"' src/inngest.ts || { echo "recipe-test: src/inngest.ts has no trigger for test/recipe.checked" >&2; exit 1; }
cat >test/types/recipe-ok.ts <<'TS'
import { Inngest } from "inngest";
import { createRouteClient } from "../../src/index.js";
import { recipeChecked } from "../../src/inngest.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([
  { name: "test/recipe.checked", data: { checkId: "chk_1", score: 7 } },
  { name: "app/feedback.submitted", data: { rating: 4, page: { path: "/" } } },
]);

const inngest = new Inngest({ id: "recipe" });
export const onRecipeChecked = inngest.createFunction(
  { id: "on-recipe-checked", triggers: [recipeChecked] },
  async ({ event }) => {
    const score: number = event.data.data.score;
    const checkId: string = event.data.data.checkId;
    const userId: string = event.data.user.id;
    return { score, checkId, userId };
  },
);
TS
# Each must-fail file has its one error at line 6.
cat >test/types/recipe-bad-send.ts <<'TS'
import { createRouteClient } from "../../src/index.js";

const client = createRouteClient({ baseUrl: "http://127.0.0.1:8390" });
export const res = client.sendEvents([
  // a misspelt field:
  { name: "test/recipe.checked", data: { checkId: "chk_1", scor: 7 } },
]);
TS
cat >test/types/recipe-bad-inngest.ts <<'TS'
import { Inngest } from "inngest";
import { recipeChecked } from "../../src/inngest.js";

const inngest = new Inngest({ id: "recipe" });
export const f = inngest.createFunction({ id: "f", triggers: [recipeChecked] }, async ({ event }) => {
  const s: string = event.data.data.score;
  return s;
});
TS
tsc=(node node_modules/typescript/bin/tsc --noEmit --strict --target ES2022 --module NodeNext --moduleResolution NodeNext --lib ES2022,DOM)
"${tsc[@]}" test/types/recipe-ok.ts
for bad in recipe-bad-send recipe-bad-inngest; do
  if out=$("${tsc[@]}" "test/types/$bad.ts" 2>&1); then
    echo "recipe-test: tsc accepted test/types/$bad.ts" >&2; exit 1
  fi
  grep -q "^test/types/$bad\.ts(6," <<<"$out" && [[ $(grep -c '^test/types/' <<<"$out") == 1 ]] ||
    { echo "recipe-test: test/types/$bad.ts: want one error, at line 6:" >&2; echo "$out" >&2; exit 1; }
done
echo "recipe-test: passed"
