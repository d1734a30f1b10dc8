/* Rater pages, progressively enhanced: the pages work without this file.
   - follows the meeting (polls a tiny cached state, 304 while nothing changes);
   - thumb controls (slider, -/+) and the running total;
   - never loses a score: a submission is kept in localStorage until the server
     confirms it and resent with the same Idempotency-Key when the network returns. */
(function () {
  "use strict";
  var body = document.body;
  var T = JSON.parse(document.getElementById("rater-i18n").textContent);
  var token = body.dataset.token;
  var page = body.dataset.page;
  var banner = document.getElementById("live-banner");
  var store = window.localStorage;
  var PENDING = "kaoping:pending:" + token + ":";

  function show(text, link) {
    banner.textContent = text + " ";
    if (link) {
      var a = document.createElement("a");
      a.href = link.href; a.textContent = link.text;
      banner.appendChild(a);
    }
    banner.hidden = false;
  }

  /* --- following the meeting ------------------------------------------------------------ */
  /* Start from what the page shows, not from the first answer: the meeting may move on
     between rendering this page and the first poll. */
  var etag = null, openIds = body.dataset.open;
  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    headers.Authorization = "Rater " + body.dataset.token;  /* a meeting not yet public answers its raters only */
    fetch(body.dataset.liveUrl, { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 304) return null;
      if (!r.ok) return null;
      etag = r.headers.get("ETag");
      return r.json();
    }).then(function (state) {
      if (!state) return;
      var ids = state.open.join(",");
      if (openIds != null && ids !== openIds) changed(state);
      openIds = ids;
    }).catch(function () { /* offline: try again later */ }).then(function () {
      setTimeout(poll, 2500 + Math.random() * 1500);
    });
  }
  function changed(state) {
    var here = Number(body.dataset.presentation || 0);
    var dirty = document.querySelector("form.ballot.dirty");
    if (page === "home" || (page !== "sheet" && !dirty && !here)) { location.reload(); return; }
    if (page === "sheet") { if (!dirty) location.reload(); return; }
    if (here && state.open.indexOf(here) === -1 && document.querySelector("form.ballot")) {
      show(T.closedHere);
    } else if (state.current && state.current.id !== here) {
      show(T.nowOpen + " " + state.current.order + ". " + state.current.name,
           { href: body.dataset.homeUrl.replace(/\/$/, "") + "/p/" + state.current.id + "/", text: T.go });
    } else if (!dirty) {
      location.reload();
    }
  }
  poll();

  /* --- the form -------------------------------------------------------------------------- */
  function total(form) {
    var sum = 0, complete = true;
    form.querySelectorAll("input[type=number][data-points]").forEach(function (input) {
      var v = parseFloat(input.value);
      if (isNaN(v)) complete = false; else sum += v;
    });
    form.querySelectorAll("fieldset.grade").forEach(function (fs) {
      var checked = fs.querySelector("input:checked");
      if (checked) sum += parseFloat(checked.dataset.points); else complete = false;
    });
    var out = form.querySelector("[data-total]");
    // Display only: the server computes the total in exact decimals.
    if (out) out.textContent = complete ? (Math.round(sum * 10000) / 10000).toString() : "–";
  }

  function enhance(form) {
    form.querySelectorAll(".criterion.numeric").forEach(function (box) {
      var input = box.querySelector("input[type=number]");
      var slider = box.querySelector(".slider");
      var step = parseFloat(input.step), max = parseFloat(input.max);
      slider.hidden = false;
      box.querySelectorAll(".step").forEach(function (b) {
        b.classList.remove("idle"); b.removeAttribute("tabindex");
        b.addEventListener("click", function () {
          var v = parseFloat(input.value);
          if (isNaN(v)) v = max;
          v = Math.min(max, Math.max(0, Math.round((v + step * Number(b.dataset.step)) / step) * step));
          input.value = +v.toFixed(4);
          slider.value = input.value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
      });
      slider.addEventListener("input", function () {
        input.value = slider.value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
      input.addEventListener("input", function () { if (input.value !== "") slider.value = input.value; });
    });
    form.addEventListener("input", function () { form.classList.add("dirty"); total(form); });
    form.addEventListener("change", function () { form.classList.add("dirty"); total(form); });
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(form); });
    total(form);
    var pending = store && store.getItem(PENDING + form.dataset.presentation);
    if (pending) { restore(form, JSON.parse(pending)); send(form, JSON.parse(pending)); }
  }

  function collect(form) {
    var scores = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "idempotency_key" && name !== "next") scores[name] = value;
    });
    return { key: form.querySelector("[name=idempotency_key]").value, scores: scores };
  }

  function restore(form, item) {
    Object.keys(item.scores).forEach(function (name) {
      form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
        if (input.type === "radio") input.checked = input.value === item.scores[name];
        else input.value = item.scores[name];
      });
    });
    form.querySelector("[name=idempotency_key]").value = item.key;
    total(form);
  }

  function note(form, text) {
    var p = form.querySelector("[data-pending]");
    p.textContent = text; p.hidden = !text;
  }

  function submit(form) {
    var item = collect(form);
    if (store) store.setItem(PENDING + form.dataset.presentation, JSON.stringify(item));
    send(form, item);
  }

  var sending = {};
  function send(form, item) {
    var id = form.dataset.presentation;
    if (sending[id]) return;  // a double tap sends one request
    sending[id] = true;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    note(form, T.sending);
    fetch(body.dataset.apiUrl + "/ballots/" + id, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "Authorization": "Rater " + token,
                 "Idempotency-Key": item.key, "Accept-Language": document.documentElement.lang },
      body: JSON.stringify({ scores: item.scores })
    }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; });
    }).then(function (result) {
      sending[id] = false;
      if (result.status === 200 || result.status === 201) {
        if (store) store.removeItem(PENDING + id);
        form.classList.remove("dirty");
        var next = page === "sheet" ? "?saved=" + id + "#p" + id : "?saved=1";
        location.href = location.pathname + next;
        return;
      }
      if (result.status >= 500 || result.status === 429) { retryLater(form, item); return; }
      // Refused for good (invalid, closed, quota...): the rater decides what to change.
      if (store) store.removeItem(PENDING + id);
      button.disabled = false;
      var lines = [T.refused, result.data.detail];
      (result.data.errors || []).forEach(function (e) { lines.push(e.message); });
      note(form, lines.join(" "));
      form.querySelector("[name=idempotency_key]").value = newKey();
    }).catch(function () {
      sending[id] = false;
      retryLater(form, item);
    });
  }

  function retryLater(form, item) {
    note(form, T.offline);
    var again = function () { window.removeEventListener("online", again); clearTimeout(timer); send(form, item); };
    var timer = setTimeout(again, 4000);
    window.addEventListener("online", again);
  }

  function newKey() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  document.querySelectorAll("form.ballot").forEach(enhance);
})();
