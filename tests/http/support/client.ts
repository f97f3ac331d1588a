import * as NodeCrypto from "node:crypto"
import * as NodeHttp from "node:http"

/** An answer, with the JSON body parsed when there is one. */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field and compared with expect
  readonly body: any
  readonly text: string
  readonly setCookies: ReadonlyArray<string>
}

export interface RequestOptions {
  /** `Authorization: Bearer <token>`. */
  readonly bearer?: string
  /** A raw `Cookie` header. */
  readonly cookie?: string
  readonly json?: unknown
  readonly headers?: Record<string, string>
}

/** A small fetch wrapper bound to a base URL. */
export const client = (base: string) => {
  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`
    if (options.cookie !== undefined) headers.cookie = options.cookie
    if (options.json !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.json === undefined ? null : JSON.stringify(options.json),
      redirect: "manual"
    })
    const text = await response.text()
    let body: unknown = null
    try {
      body = text === "" ? null : JSON.parse(text)
    } catch {
      body = null
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      text,
      setCookies: response.headers.getSetCookie()
    }
  }

  const user = async (prefix = "user") => {
    const email = `${prefix}-${NodeCrypto.randomBytes(4).toString("hex")}@example.com`
    const password = `Pw-${NodeCrypto.randomBytes(6).toString("hex")}-Aa1!`
    const registered = await request("POST", "/api/auth/register", {
      json: { email, password, password_confirm: password }
    })
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`)
    const login = await request("POST", "/api/auth/login", { json: { email, password } })
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`)
    return { id: registered.body.id as string, email, password, jwt: login.body.access_token as string }
  }

  const addKey = async (jwt: string, key: string = fakeKey(), name = "key") => {
    const added = await request("POST", "/api/keys", { bearer: jwt, json: { name, key } })
    if (added.status !== 201) throw new Error(`add key: ${added.status} ${added.text}`)
    return added.body.id as string
  }

  const apiToken = async (jwt: string, name = "token") => {
    const created = await request("POST", "/api/tokens", { bearer: jwt, json: { name } })
    if (created.status !== 201) throw new Error(`token: ${created.status} ${created.text}`)
    return { id: created.body.id as string, token: created.body.token as string }
  }

  return { request, user, addKey, apiToken }
}

/** A well-formed OpenRouter key nobody owns. */
export const fakeKey = () => `sk-or-v1-${NodeCrypto.randomBytes(32).toString("hex")}`

/** A request with an arbitrary `Host` header (fetch does not let a caller set it). */
export const rawGet = (base: string, path: string, host: string) =>
  new Promise<{ status: number; headers: NodeHttp.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const url = new URL(path, base)
    const req = NodeHttp.request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: "GET", headers: { host } },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      }
    )
    req.on("error", reject)
    req.end()
  })

/** The value of a `Set-Cookie` line's cookie and its attributes, lower-cased names. */
export const parseSetCookie = (line: string) => {
  const [pair = "", ...attributes] = line.split(";").map((part) => part.trim())
  const [name = "", ...value] = pair.split("=")
  return {
    name,
    value: value.join("="),
    attributes: new Map(
      attributes.map((a) => {
        const [k = "", ...v] = a.split("=")
        return [k.toLowerCase(), v.join("=")] as const
      })
    )
  }
}
