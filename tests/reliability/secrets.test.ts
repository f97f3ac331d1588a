import * as NodeFs from "node:fs"
import { afterAll, beforeAll, expect, it } from "vitest"
import { orw } from "../cli/fixture.js"
import { postRpc } from "../e2e/support/rpc.js"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"

/*
 * A full scenario through HTTP and RPC, then every byte the system wrote or said is scanned for every
 * plaintext secret (OpenRouter keys, passwords, API tokens, session JWTs), in UTF-8, UTF-16LE and UTF-16BE:
 * the database files (with WAL), the log lines, the CLI's output, and every answer except the one answer that
 * hands a secret over (login: the JWT; token creation: the token). An `orw backup` taken while the server runs
 * is scanned too.
 */

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const encodings = (secret: string) => [
  Buffer.from(secret, "utf8"),
  Buffer.from(secret, "utf16le"),
  Buffer.from(secret, "utf16le").swap16()
]

it("no plaintext key, password, token or JWT in the files, logs, CLI output or answers", async () => {
  const api = client(server.url)
  const answers: Array<string> = []
  const handedOver: Array<string> = []
  const say = <T extends { text: string }>(answer: T, handsOver = false) => {
    ;(handsOver ? handedOver : answers).push(answer.text)
    return answer
  }
  const email = "secrets@example.com"
  const password = "First-Passw0rd-Secret!"
  const newPassword = "Second-Passw0rd-Secret!"
  say(await api.request("POST", "/api/auth/register", { json: { email, password, password_confirm: password } }))
  const login = say(await api.request("POST", "/api/auth/login", { json: { email, password } }), true)
  const jwt = login.body.access_token as string
  const management = server.sim.addKey({ isManagementKey: true })
  const inference = server.sim.addKey()
  server.sim.addUsage(inference, 2.5)
  const keyIds: Array<string> = []
  for (const [name, key] of [
    ["mgmt", management],
    ["inference", inference]
  ] as const) {
    const added = say(await api.request("POST", "/api/keys", { bearer: jwt, json: { name, key } }))
    keyIds.push(added.body.id)
  }
  for (const id of keyIds) say(await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt }))
  say(await api.request("PUT", `/api/keys/${keyIds[1]}`, { bearer: jwt, json: { name: "renamed" } }))
  const created = say(await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "t" } }), true)
  const apiToken = created.body.token as string
  for (const path of ["/api/v1/stats", "/api/v1/usage", "/api/v1/keys"])
    say(await api.request("GET", path, { bearer: apiToken }))
  say(await api.request("GET", "/api/keys", { bearer: jwt }))
  say(await api.request("GET", "/api/tokens", { bearer: jwt }))
  const rpcHeaders = { origin: server.url, cookie: `orw_session=${jwt}` }
  for (const tag of ["me", "dashboard", "listKeys", "listTokens"]) say(await postRpc(server.url, tag, rpcHeaders))
  const rpcToken = say(await postRpc(server.url, "createToken", rpcHeaders, { name: "rpc" }), true)
  const secondToken = (rpcToken.json as Array<{ exit: { value: { token: string } } }>)[0]?.exit.value.token ?? ""
  expect(secondToken).toMatch(/^or_api_/)
  // Wrong inputs carrying secrets: refusals must not echo them.
  say(await postRpc(server.url, "addKey", rpcHeaders, { name: 1, key: inference }))
  say(await postRpc(server.url, "deleteAccount", rpcHeaders, { password: [password] }))
  say(await api.request("POST", "/api/keys", { bearer: jwt, json: { name: ["x"], key: management } }))
  say(await api.request("POST", "/api/auth/login", { json: { email, password: [password] } }))
  const changed = say(
    await api.request("PUT", "/api/users/me/password", {
      bearer: jwt,
      json: { current_password: password, new_password: newPassword, new_password_confirm: newPassword }
    }),
    true
  )
  const jwt2 = changed.body.access_token as string
  say(await api.request("DELETE", `/api/keys/${keyIds[0]}`, { bearer: jwt2 }))
  say(await api.request("POST", "/api/auth/logout", { bearer: jwt2 }))
  const login3 = say(await api.request("POST", "/api/auth/login", { json: { email, password: newPassword } }), true)
  const jwt3 = login3.body.access_token as string

  const env = { DATABASE_URL: `sqlite:///${server.databaseFile}`, DATA_DIR: server.dir }
  const cli: Array<string> = []
  for (const args of [
    ["events", "list", "--json"],
    ["events", "list"],
    ["keys", "list"],
    ["projections", "status"]
  ]) {
    const run = await orw(args, env)
    cli.push(run.stdout, run.stderr)
  }
  // An online backup of the full scenario, while the server holds the database.
  const backupFile = `${server.dir}/backup-scan.db`
  const backup = await orw(["backup", backupFile], env)
  expect(backup.code, backup.stderr).toBe(0)
  cli.push(backup.stdout, backup.stderr)
  say(await api.request("DELETE", "/api/users/me", { bearer: jwt3, json: { password: newPassword } }))

  const secrets = {
    management,
    inference,
    "inference (no prefix)": inference.slice(9),
    password,
    newPassword,
    apiToken,
    secondToken,
    jwt,
    jwt2,
    jwt3
  }
  const files = NodeFs.readdirSync(server.dir)
    .filter((f) => f.startsWith("app.db") || f.startsWith("backup-scan.db"))
    .map((f) => [`file ${f}`, NodeFs.readFileSync(`${server.dir}/${f}`)] as const)
  const haystacks: ReadonlyArray<readonly [string, Buffer]> = [
    ...files,
    ["logs", Buffer.from(server.logs.join("\n"), "utf8")],
    ["cli", Buffer.from(cli.join("\n"), "utf8")],
    ["answers", Buffer.from(answers.join("\n"), "utf8")]
  ]
  expect(files.map(([name]) => name)).toEqual(expect.arrayContaining(["file app.db", "file backup-scan.db"]))
  const found: Array<string> = []
  for (const [where, bytes] of haystacks) {
    for (const [name, secret] of Object.entries(secrets)) {
      for (const needle of encodings(secret)) if (bytes.includes(needle)) found.push(`${name} in ${where}`)
    }
  }
  expect(found).toEqual([])
  // The answers that hand a secret over do so once each, and nothing else in them is secret.
  expect(handedOver.join("\n")).not.toContain(password)
  console.info(
    `secrets: ${Object.keys(secrets).length} secrets x 3 encodings over ${haystacks.length} haystacks (${haystacks.reduce((n, [, b]) => n + b.length, 0)} bytes): none found`
  )
}, 120_000)
