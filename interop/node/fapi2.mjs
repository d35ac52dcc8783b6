// An independent, strict client (oauth4webapi) against a running Portico:
// RFC 8414 discovery, a FAPI 2.0 client authenticating with private_key_jwt
// (ES256), a pushed authorization request (RFC 9126) with a DPoP proof
// (RFC 9449, server nonces honoured), the code flow with PKCE S256, the
// RFC 9207 iss check on the authorization response, the code exchange and
// a refresh with DPoP, and userinfo with the DPoP scheme. The browser's
// part (sign-in through the sandbox IdP) is driven over HTTP.
//
// Input (environment): ISSUER, CLIENT_ID, CLIENT_JWK (the private ES256 JWK
// whose public half is registered), CLIENT_KID, REDIRECT_URI, EMAIL,
// PASSWORD. Output: one JSON line on stdout; a non-zero exit on failure.
import * as oauth from 'oauth4webapi'

const env = (name) => {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set`)
  return v
}
const insecure = { [oauth.allowInsecureRequests]: true } // the test server is http://127.0.0.1

const issuer = new URL(env('ISSUER'))
const redirectUri = env('REDIRECT_URI')
const as = await oauth.processDiscoveryResponse(issuer,
  await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
for (const field of ['pushed_authorization_request_endpoint', 'dpop_signing_alg_values_supported']) {
  if (!as[field]) throw new Error(`metadata lacks ${field}`)
}
if (as.authorization_response_iss_parameter_supported !== true) throw new Error('metadata does not promise iss')

const client = { client_id: env('CLIENT_ID'), id_token_signed_response_alg: 'ES256' }
const jwk = JSON.parse(env('CLIENT_JWK'))
const clientKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const clientAuth = oauth.PrivateKeyJwt({ key: clientKey, kid: env('CLIENT_KID') })
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))

// retryOnNonce repeats a request once when the server asks for a DPoP nonce
// (the DPoP handle has remembered the one it sent).
let nonceRetries = 0
async function retryOnNonce (send, process) {
  try {
    return await process(await send())
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    nonceRetries++
    return await process(await send())
  }
}

// 1. Push the authorization request.
const codeVerifier = oauth.generateRandomCodeVerifier()
const state = oauth.generateRandomState()
const nonce = oauth.generateRandomNonce()
const params = new URLSearchParams({
  response_type: 'code', redirect_uri: redirectUri, scope: 'openid email offline_access', state, nonce,
  code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256'
})
const par = await retryOnNonce(
  () => oauth.pushedAuthorizationRequest(as, client, clientAuth, params, { DPoP, ...insecure }),
  (r) => oauth.processPushedAuthorizationResponse(as, client, r))
if (!par.request_uri.startsWith('urn:ietf:params:oauth:request_uri:')) throw new Error(`request_uri ${par.request_uri}`)

// 2. The browser: /authorize with client_id and request_uri only, then the
// portal's sign-in through the sandbox IdP.
const authorizeURL = new URL(as.authorization_endpoint)
authorizeURL.searchParams.set('client_id', client.client_id)
authorizeURL.searchParams.set('request_uri', par.request_uri)
const callback = await browser(authorizeURL.href)

// 3. The authorization response: state and RFC 9207 iss are checked here.
const callbackParams = oauth.validateAuthResponse(as, client, new URL(callback), state)

// 4. The code exchange, DPoP-bound.
const tokens = await retryOnNonce(
  () => oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, redirectUri, codeVerifier, { DPoP, ...insecure }),
  (r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: nonce, requireIdToken: true }))
if (tokens.token_type !== 'dpop') throw new Error(`token_type ${tokens.token_type}`)
const claims = oauth.getValidatedIdTokenClaims(tokens)

// 5. Userinfo with the DPoP scheme.
const userinfo = await retryOnNonce(
  () => oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }),
  (r) => oauth.processUserInfoResponse(as, client, claims.sub, r))

// 6. A refresh, DPoP-bound again.
const refreshed = await retryOnNonce(
  () => oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP, ...insecure }),
  (r) => oauth.processRefreshTokenResponse(as, client, r))

console.log(JSON.stringify({
  request_uri: par.request_uri, iss: callbackParams.get('iss'), token_type: tokens.token_type,
  sub: claims.sub, email: userinfo.email, refreshed_token_type: refreshed.token_type, nonce_retries: nonceRetries
}))

// browser follows redirects with a cookie jar and fills in the portal's
// sign-in forms (email, then the sandbox's password) until it is sent to
// the redirect URI; it returns that URL.
async function browser (start) {
  const jar = new Map()
  let url = start
  let method = 'GET'
  let body
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(redirectUri)) return url
    const res = await fetch(url, {
      method, body, redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {})
      }
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair.indexOf('=')
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim())
    }
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url).href
      method = 'GET'
      body = undefined
      continue
    }
    const html = await res.text()
    if (res.status !== 200) throw new Error(`${method} ${url}: ${res.status}\n${html.slice(0, 500)}`)
    const form = pickForm(html)
    if (!form) throw new Error(`no sign-in form at ${url}:\n${html.slice(0, 500)}`)
    const fields = new URLSearchParams(form.hidden)
    fields.set('email', env('EMAIL'))
    if (form.id === 'password-form') fields.set('password', env('PASSWORD'))
    url = new URL(form.action, url).href
    method = 'POST'
    body = fields.toString()
  }
  throw new Error('too many redirects')
}

// pickForm finds the password form, else the email form, with its hidden
// inputs.
function pickForm (html) {
  for (const id of ['password-form', 'email-form']) {
    const m = html.match(new RegExp(`<form[^>]*id="${id}"[^>]*>([\\s\\S]*?)</form>`))
    if (!m) continue
    const action = (m[0].match(/action="([^"]*)"/) || [])[1] || ''
    const hidden = []
    for (const input of m[1].matchAll(/<input[^>]*>/g)) {
      const tag = input[0]
      if (!/type="hidden"/.test(tag)) continue
      const name = (tag.match(/name="([^"]*)"/) || [])[1]
      const value = (tag.match(/value="([^"]*)"/) || [])[1] || ''
      if (name) hidden.push([name, unescape(value)])
    }
    return { id, action: unescape(action), hidden }
  }
  return null
}

function unescape (s) {
  return s.replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}
