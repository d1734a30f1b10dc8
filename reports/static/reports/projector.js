/* Projector: polls once a second; turnout bars and the countdown move without a reload. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("projector-i18n").textContent);
  var url = document.body.dataset.stateUrl;
  var ends = null;
  function svg(ballots, expected) {
    var ns = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 100 10"); s.setAttribute("preserveAspectRatio", "none");
    var r = document.createElementNS(ns, "rect");
    r.setAttribute("class", "done"); r.setAttribute("height", "10");
    r.setAttribute("width", expected ? Math.min(100, 100 * ballots / expected) : 0);
    s.appendChild(r);
    return s;
  }
  function render(state) {
    var name = document.querySelector("[data-name]");
    name.textContent = state.current ? state.current.order + ". " + state.current.name : "—";
    var roles = document.querySelector("[data-roles]");
    roles.textContent = "";
    (state.current ? state.current.roles : []).forEach(function (r) {
      var div = document.createElement("div"); div.className = "role";
      var n = document.createElement("span"); n.className = "role-name"; n.textContent = r.name;
      var c = document.createElement("span"); c.className = "count"; c.textContent = r.ballots + " / " + r.expected;
      div.appendChild(n); div.appendChild(svg(r.ballots, r.expected)); div.appendChild(c);
      roles.appendChild(div);
    });
    document.querySelector("[data-progress]").textContent =
      T.progress.replace("%(closed)s", state.closed).replace("%(total)s", state.total);
    ends = state.countdown === null ? null : Date.now() + state.countdown * 1000;
    // Once the ranking is out and nobody is presenting, the screen belongs to the ranking.
    document.getElementById("now").hidden = !!(state.published && !state.current);
    var ranking = document.querySelector("[data-ranking]");
    if (state.published) {
      var list = document.querySelector("[data-ranking-list]");
      list.textContent = "";
      state.published.forEach(function (r) {
        var li = document.createElement("li");
        li.className = r.reward ? "reward" : r.admonition ? "admonition" : "";
        [["rank", r.rank], ["n", r.name], ["c", r.category], ["f", r.final_shown], ["m", r.mark]].forEach(function (cell) {
          var span = document.createElement("span"); span.className = cell[0]; span.textContent = cell[1]; li.appendChild(span);
        });
        list.appendChild(li);
      });
      ranking.hidden = false;
      showPage(false);  /* a poll redraws the list: stay on the page shown, on its own clock */
      var notice = document.querySelector("[data-notice]");
      notice.hidden = !state.notice_until;
      if (state.notice_until) notice.textContent = T.notice.replace("%(until)s", state.notice_until);
    } else {
      ranking.hidden = true;
    }
  }
  /* Every department in turn: the ranking pages through PAGE rows (two columns) every PAGE_SECONDS. */
  var PAGE = 20, PAGE_SECONDS = 10, page = 0, pageShownAt = 0;
  function showPage(restart) {
    var items = document.querySelectorAll("[data-ranking-list] li");
    var pages = Math.max(1, Math.ceil(items.length / PAGE));
    if (page >= pages) page = 0;
    items.forEach(function (li, i) { li.hidden = Math.floor(i / PAGE) !== page; });
    var label = document.querySelector("[data-page]");
    label.hidden = pages < 2;
    label.textContent = T.page.replace("%(page)s", page + 1).replace("%(pages)s", pages);
    if (restart !== false) pageShownAt = Date.now();
  }
  function turnPage() {
    if (document.querySelector("[data-ranking]").hidden) return;
    if (Date.now() - pageShownAt >= PAGE_SECONDS * 1000) { page += 1; showPage(); }
  }
  setInterval(turnPage, 1000);
  if (!document.querySelector("[data-ranking]").hidden) showPage();
  function tick() {
    var el = document.querySelector("[data-countdown]");
    if (ends === null) { el.hidden = true; return; }
    var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    el.hidden = false;
    el.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
  }
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) render(s); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  setInterval(tick, 250);
  poll();
})();
