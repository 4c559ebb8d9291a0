/* The family's passkey (issue 26): adding one on the home page (#passkey-nieuw) and signing in with one at the
   login's second step (#passkey-stap). The server gives WebAuthn options as JSON (base64url for the bytes) and
   checks the answer; the texts are the page's own (data-* attributes), so this file has no words of its own.
   Without this script, or in a browser without WebAuthn, the buttons stay hidden and the mailed code is the way. */
"use strict";
(function () {
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  function toText(buffer) {
    let binary = "";
    new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function post(url, data, fallback) {
    const answer = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
    if (answer.redirected) { return { naar: answer.url }; }  // no longer logged in: to the login page
    if (!answer.ok) { throw new Error((await answer.text()) || fallback); }  // the rule, in Dutch
    return answer.json();
  }

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBytes(c.id) }));
  }

  function ceremony(box, button, run) {
    const fault = box.querySelector("#passkey-fout");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      box.querySelector("#passkey-geen").hidden = false;
      return;
    }
    button.hidden = false;
    button.addEventListener("click", async () => {
      fault.hidden = true;
      button.disabled = true;
      try {
        window.location.assign((await run(box.dataset.csrf, box.dataset.nietGelukt)).naar);
      } catch (error) {
        // a cancelled or timed-out prompt says nothing useful: the page's own words then
        fault.textContent = error instanceof DOMException ? box.dataset.nietGelukt : error.message;
        fault.hidden = false;
        button.disabled = false;
      }
    });
  }

  const step = document.getElementById("passkey-stap");
  if (step) {
    ceremony(step, document.getElementById("passkey-inloggen"), async (csrf, fallback) => {
      const options = await post("/gezin/passkey/opties", { csrf: csrf }, fallback);
      options.challenge = toBytes(options.challenge);
      options.allowCredentials = withIds(options.allowCredentials);
      const found = await navigator.credentials.get({ publicKey: options });
      const credential = {
        id: found.id,
        rawId: toText(found.rawId),
        type: found.type,
        response: {
          clientDataJSON: toText(found.response.clientDataJSON),
          authenticatorData: toText(found.response.authenticatorData),
          signature: toText(found.response.signature),
          userHandle: found.response.userHandle ? toText(found.response.userHandle) : null,
        },
      };
      return post("/gezin/passkey/inloggen", { csrf: csrf, credential: credential }, fallback);
    });
  }

  const add = document.getElementById("passkey-nieuw");
  if (add) {
    ceremony(add, document.getElementById("passkey-toevoegen"), async (csrf, fallback) => {
      const options = await post("/gezin/passkeys/opties", { csrf: csrf }, fallback);
      options.challenge = toBytes(options.challenge);
      options.user.id = toBytes(options.user.id);
      options.excludeCredentials = withIds(options.excludeCredentials);
      const made = await navigator.credentials.create({ publicKey: options });
      const credential = {
        id: made.id,
        rawId: toText(made.rawId),
        type: made.type,
        response: {
          clientDataJSON: toText(made.response.clientDataJSON),
          attestationObject: toText(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : [],
        },
      };
      return post("/gezin/passkeys", { csrf: csrf, credential: credential }, fallback);
    });
  }
})();
