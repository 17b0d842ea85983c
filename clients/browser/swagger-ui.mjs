// Uses the Swagger UI of a running service the way a developer does, in headless Chromium (Debian's, driven by
// playwright-core): open /swagger-ui/, Authorize with a bearer token, expand "List funding lines"
// (GET /api/v1/funding-lines), Try it out, Execute, and wait for the live response to show 200, with the budget
// figures that only an authenticated call gets; then, as a municipality, upload a PDF through "Try it out" of
// POST /api/v1/applications/{id}/attachments (multipart/form-data) and see 201. Saves a screenshot and exits non-zero on any failure, printing
// what the page's console and the content security policy reported.
//
// Environment: VERSORGUNG_URL (e.g. http://127.0.0.1:8080), TOKEN (a JWT, without "Bearer "), TOKEN_MUNICIPALITY
// (a municipality of 06636, for the upload), optionally
// CHROMIUM (default /usr/bin/chromium) and SCREENSHOT (default out/swagger-ui.png beside this file).

import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") {
    console.error(`environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const baseUrl = env("VERSORGUNG_URL").replace(/\/+$/, "");
const token = env("TOKEN");
const executablePath = env("CHROMIUM", "/usr/bin/chromium");
const screenshot = resolve(env("SCREENSHOT", join(here, "out", "swagger-ui.png")));
const timeout = 20_000;

let step = 0;
function log(message) {
  step += 1;
  console.log(`  ${String(step).padStart(2)}. ${message}`);
}

rmSync(screenshot, { force: true });
rmSync(screenshot.replace(/\.png$/, "-failure.png"), { force: true });

const problems = []; // console errors, page errors, CSP violations, failed requests
const started = Date.now();
// launch() gives the browser a fresh, throw-away profile of its own (a temporary user-data dir).
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
  ],
  timeout: 60_000,
});
let failed = false;
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1800 }, locale: "en-US" });
  page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  // CSP violations as the page sees them (securitypolicyviolation events), reported through the console.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} ` +
        `at ${e.sourceFile || "?"}:${e.lineNumber}`);
    });
  });

  const response = await page.goto(`${baseUrl}/swagger-ui/`, { waitUntil: "load" });
  if (response === null || response.status() !== 200) {
    throw new Error(`GET /swagger-ui/ answered ${response?.status() ?? "nothing"}`);
  }
  log(`opened ${page.url()} (CSP: ${response.headers()["content-security-policy"] ?? "none"})`);

  // The UI renders the document once it has fetched /api-docs/openapi.json.
  await page.locator(".swagger-ui .info .title").waitFor();
  log(`the UI shows "${(await page.locator(".swagger-ui .info .title").innerText()).split("\n")[0]}"`);

  // Authorize: the bearer scheme's dialog takes the token without the "Bearer " prefix.
  await page.locator(".scheme-container button.authorize").click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  await dialog.waitFor();
  await dialog.locator("input").first().fill(token);
  await dialog.locator("button.modal-btn.auth.authorize").click();
  // Once the token is stored the dialog says "Authorized" and offers "Logout" instead of "Authorize".
  await dialog.locator("h6", { hasText: "Authorized" }).waitFor();
  await dialog.locator("button", { hasText: "Logout" }).waitFor();
  await dialog.locator("button.btn-done").click();
  await dialog.waitFor({ state: "detached" });
  log("authorized with the bearer token and closed the dialog");

  // The operation: GET /api/v1/funding-lines ("List funding lines").
  const operation = page
    .locator(".opblock.opblock-get")
    .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/funding-lines"]') });
  await operation.first().waitFor();
  if ((await operation.count()) !== 1) {
    throw new Error(`expected one GET /api/v1/funding-lines block, found ${await operation.count()}`);
  }
  await operation.locator(".opblock-summary-path").scrollIntoViewIfNeeded();
  await operation.locator(".opblock-summary-control").click();
  await operation.locator(".opblock-body").waitFor();
  const summary = await operation.locator(".opblock-summary-description").innerText();
  log(`expanded GET /api/v1/funding-lines ("${summary}")`);

  await operation.locator("button.try-out__btn").click();
  const [request] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname.startsWith("/api/v1/")),
    operation.locator("button.execute").click(),
  ]);
  log('clicked "Try it out" and "Execute"');
  const sent = `${request.method()} ${new URL(request.url()).pathname}`;
  if (sent !== "GET /api/v1/funding-lines") {
    throw new Error(`"Execute" on GET /api/v1/funding-lines sent ${sent} instead`);
  }
  const authorization = await request.headerValue("authorization");
  if (authorization !== `Bearer ${token}`) {
    throw new Error(`the request carried Authorization: ${authorization ?? "(none)"}, not the bearer token`);
  }
  log(`the UI sent ${sent} with the bearer token`);

  // The live response (not the documented responses table below it).
  const live = operation.locator(".responses-wrapper .live-responses-table tbody .response");
  const status = live.locator(".response-col_status").first();
  await status.waitFor();
  const code = (await status.innerText()).trim();
  if (code !== "200") {
    const body = await live.locator(".response-col_description").innerText().catch(() => "");
    throw new Error(`the live response shows status ${code}, expected 200\n${body}`);
  }
  const body = await live.locator(".response-col_description .microlight, .response-col_description pre").first().innerText();
  if (!body.includes('"code": "GK"') || !body.includes("budgetCents")) {
    throw new Error(`the live response does not show GK with its budget figures:\n${body.slice(0, 2000)}`);
  }
  log("the live response shows 200 with the funding lines and their budget figures (only sent with a token)");

  // An upload through "Try it out", as a developer attaches a cost plan: authorized as the municipality, the
  // request body switched to multipart/form-data, a PDF chosen in the file input, Execute, 201 with the SHA-256.
  const municipalityToken = env("TOKEN_MUNICIPALITY");
  const draft = await fetch(`${baseUrl}/api/v1/applications`, {
    method: "POST",
    headers: { Authorization: `Bearer ${municipalityToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ fundingLine: "GK", title: "Anlage über die Swagger UI", description: "Test." }),
  });
  if (draft.status !== 201) throw new Error(`creating the draft answered ${draft.status}`);
  const application = (await draft.json()).id;
  await page.locator(".scheme-container button.authorize").click();
  const again = page.locator(".dialog-ux .modal-ux");
  await again.waitFor();
  await again.locator("button", { hasText: "Logout" }).first().click();
  await again.locator("input").first().fill(municipalityToken);
  await again.locator("button.modal-btn.auth.authorize").click();
  await again.locator("h6", { hasText: "Authorized" }).waitFor();
  await again.locator("button.btn-done").click();
  await again.waitFor({ state: "detached" });
  log("authorized again, as the municipality");
  const upload = page
    .locator(".opblock.opblock-post")
    .filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/applications/{id}/attachments"]') });
  await upload.first().waitFor();
  await upload.locator(".opblock-summary-path").scrollIntoViewIfNeeded();
  await upload.locator(".opblock-summary-control").click();
  await upload.locator(".opblock-body").waitFor();
  await upload.locator("button.try-out__btn").click();
  await upload.locator('.parameters-container tr[data-param-name="id"] input').fill(application);
  await upload.locator('.parameters-container tr[data-param-name="category"] input').fill("kostenplan");
  await upload.locator(".opblock-section-request-body select").first().selectOption("multipart/form-data");
  await upload.locator('input[type="file"]').setInputFiles({
    name: "Kostenplan.pdf",
    mimeType: "application/pdf",
    buffer: Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
  });
  // The form's own fields, as a developer leaves or sets them: the category, not internal, no receipt line.
  const requestBody = upload.locator(".opblock-section-request-body");
  const field = (name, element) =>
    requestBody.locator(`tr[data-property-name="${name}"] ${element}, tr[data-param-name="${name}"] ${element}`).first();
  if ((await field("category", "input").count()) > 0) await field("category", "input").fill("kostenplan");
  if ((await field("internal", "select").count()) > 0) await field("internal", "select").selectOption("false");
  if ((await field("receiptIndex", "input").count()) > 0) await field("receiptIndex", "input").fill("");
  const [uploadRequest] = await Promise.all([
    page.waitForRequest((r) => r.method() === "POST" && new URL(r.url()).pathname.endsWith("/attachments")),
    upload.locator("button.execute").click(),
  ]);
  log(`chose a PDF in "Try it out" of POST /api/v1/applications/{id}/attachments and executed it`);
  const contentType = (await uploadRequest.headerValue("content-type")) ?? "";
  if (!contentType.startsWith("multipart/form-data")) {
    throw new Error(`the upload was sent as ${contentType}, not multipart/form-data`);
  }
  const uploaded = upload.locator(".responses-wrapper .live-responses-table tbody .response");
  const uploadStatus = (await uploaded.locator(".response-col_status").first().innerText()).trim();
  if (uploadStatus !== "201") {
    const text = await uploaded.locator(".response-col_description").innerText().catch(() => "");
    throw new Error(`the upload's live response shows ${uploadStatus}, expected 201\n${text}`);
  }
  const uploadBody = await uploaded.locator(".response-col_description .microlight, .response-col_description pre").first().innerText();
  if (!uploadBody.includes('"sha256"') || !uploadBody.includes("Kostenplan.pdf")) {
    throw new Error(`the upload's live response does not describe the file:\n${uploadBody.slice(0, 2000)}`);
  }
  log("the live response shows 201 with the stored file's name and SHA-256 (multipart/form-data from the browser)");

  // The operation from its summary line down to the live response, in one viewport.
  await operation.evaluate((element) => element.scrollIntoView({ block: "start" }));
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: false });
  log(`screenshot: ${screenshot}`);
} catch (error) {
  failed = true;
  console.error(`swagger-ui test FAILED: ${error instanceof Error ? error.message : String(error)}`);
  if (page !== undefined) {
    const shot = screenshot.replace(/\.png$/, "-failure.png");
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true }).then(
      () => console.error(`failure screenshot: ${shot}`),
      () => {},
    );
  }
} finally {
  await browser.close();
}

if (problems.length > 0) {
  console.log(`${failed ? "" : "note: "}the page reported ${problems.length} problem(s):`);
  for (const problem of problems) console.log(`    ${problem}`);
} else {
  console.log("the page reported no console errors or warnings, no CSP violations and no failed requests");
}
if (failed) process.exit(1);
console.log(`swagger-ui test passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
