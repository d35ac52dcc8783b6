// Passkey ceremonies (WebAuthn) for forms marked data-passkey="create" or
// "get" (views/passkeys.templ). The button posts the form's fields to the
// form's data-begin URL, which answers {challenge, publicKey} or {error};
// the browser's navigator.credentials runs the ceremony; the answer goes
// into the hidden inputs and the form is submitted as usual, so the server
// redirects or shows errors like for any other form. A form marked
// data-conditional also offers passkeys in the email field's autofill.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
    return b.buffer;
  }
  function toB64(buf) {
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creation(pk) {
    pk.challenge = toBuf(pk.challenge);
    pk.user.id = toBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    return pk;
  }
  function request(pk) {
    pk.challenge = toBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuf(c.id); });
    return pk;
  }
  function answer(cred) {
    var r = cred.response;
    var out = { id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) } };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function showError(form, msg) {
    var el = form.querySelector("[data-passkey-error]");
    if (!el) return;
    el.textContent = msg;
    el.hidden = !msg;
  }

  var pendingConditional = null;

  function run(form, conditional) {
    var fd = new FormData(form);
    fd.delete("credential");
    fd.delete("challenge");
    showError(form, "");
    return fetch(form.getAttribute("data-begin"), {
      method: "POST", body: fd, credentials: "same-origin",
      headers: { "X-CSRF-Token": fd.get("_csrf") || "", "Accept": "application/json" }
    }).then(function (res) {
      return res.json().catch(function () { return { error: "The passkey could not be started. Reload the page and try again." }; });
    }).then(function (data) {
      if (data.error) throw new Error(data.error);
      if (form.getAttribute("data-passkey") === "create") {
        return navigator.credentials.create({ publicKey: creation(data.publicKey) }).then(function (c) { return [data, c]; });
      }
      var opts = { publicKey: request(data.publicKey) };
      if (conditional) {
        pendingConditional = new AbortController();
        opts.mediation = "conditional";
        opts.signal = pendingConditional.signal;
      }
      return navigator.credentials.get(opts).then(function (c) { return [data, c]; });
    }).then(function (pair) {
      if (!pair[1]) return;
      form.elements.challenge.value = pair[0].challenge;
      form.elements.credential.value = answer(pair[1]);
      form.submit();
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      if (err && err.name === "NotAllowedError") {
        if (!conditional) showError(form, "The passkey was not used. Try again, or use another way to sign in.");
        return;
      }
      if (!conditional) showError(form, (err && err.message) || "The passkey did not work.");
    });
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-passkey-start]");
    if (!btn) return;
    ev.preventDefault();
    if (pendingConditional) {
      pendingConditional.abort();
      pendingConditional = null;
    }
    run(btn.closest("form"), false);
  });

  // Tells whoever waits (browser tests) that the buttons now work.
  document.documentElement.setAttribute("data-passkeys", "ready");

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-passkey][data-conditional]");
    if (!form || !PublicKeyCredential.isConditionalMediationAvailable) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (ok) run(form, true);
    });
  });
})();
