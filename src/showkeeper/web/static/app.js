// showkeeper pages: send forms as JSON with the page's CSRF token. No inline script (CSP).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var detail = typeof data.detail === "string" ? data.detail : "request failed (" + response.status + ")";
          throw new Error(detail);
        }
        return data;
      });
    });
  }

  function showError(root, error) {
    var box = root.querySelector(".error");
    if (box) { box.textContent = error.message; box.hidden = false; }
  }

  function fields(form) {
    var out = {};
    new FormData(form).forEach(function (value, key) { out[key] = value; });
    return out;
  }

  var setup = document.getElementById("setup-form");
  if (setup) {
    setup.addEventListener("submit", function (event) {
      event.preventDefault();
      post("/api/auth/setup", fields(setup)).then(function (data) {
        setup.hidden = true;
        var done = document.getElementById("setup-done");
        document.getElementById("api-key").textContent = data.api_key || "(unchanged: use your existing key)";
        done.hidden = false;
      }).catch(function (error) { showError(setup, error); });
    });
  }

  var login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = fields(login);
      body.mode = "session";
      post("/api/auth/login", body).then(function () {
        window.location.assign("/");
      }).catch(function (error) { showError(login, error); });
    });
  }

  var logout = document.getElementById("logout-button");
  if (logout) {
    logout.addEventListener("click", function () {
      post("/api/auth/logout").then(function () {
        window.location.assign("/login");
      }).catch(function (error) { showError(logout.parentNode, error); });
    });
  }
})();
