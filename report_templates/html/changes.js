(function () {
  "use strict";
  var PAGE_SIZE = 100;
  var data = JSON.parse(document.getElementById("changes-data").textContent);
  var rows = data.rows;
  var words = data.words;
  rows.forEach(function (r) {
    r.q = [r.id, r.subject, r.author, r.repo, r.req === null ? "" : "#" + r.req]
      .join(" ").toLowerCase();
  });
  var state = { q: "", status: "", control: "", repo: "", category: "", sort: "at", dir: -1, page: 0 };
  var filtered = rows;
  var el = function (id) { return document.getElementById(id); };
  var tbody = el("rows");

  function statusOf(r) {
    return state.control ? (r.ctl[state.control] || "") : r.st;
  }

  function matches(r) {
    if (state.q && r.q.indexOf(state.q) < 0) { return false; }
    if (state.repo && r.repo !== state.repo) { return false; }
    if (state.category && r.cats.indexOf(state.category) < 0) { return false; }
    if (state.control && !(state.control in r.ctl)) { return false; }
    if (state.status && statusOf(r) !== state.status) { return false; }
    return true;
  }

  function compare(a, b) {
    var x = a[state.sort], y = b[state.sort];
    if (x === null) { x = -1; }
    if (y === null) { y = -1; }
    if (x < y) { return -state.dir; }
    if (x > y) { return state.dir; }
    return a.id < b.id ? -1 : (a.id > b.id ? 1 : 0);
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE_SIZE;
    var fragment = document.createDocumentFragment();
    filtered.slice(start, start + PAGE_SIZE).forEach(function (r) {
      var tr = document.createElement("tr");
      var link = document.createElement("a");
      link.href = r.page;
      link.textContent = r.id;
      cell(tr, "").appendChild(link);
      cell(tr, r.at);
      cell(tr, r.repo);
      cell(tr, r.author);
      cell(tr, r.subject, "subject");
      cell(tr, r.req === null ? "" : "#" + r.req);
      cell(tr, r.cats.join("; "));
      var status = statusOf(r);
      cell(tr, words[status] || "", "status st-" + status);
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    el("count").textContent = filtered.length + " of " + data.total + " match";
    el("pageinfo").textContent = "page " + (state.page + 1) + " of " + pages;
    el("prev").disabled = state.page === 0;
    el("next").disabled = state.page >= pages - 1;
    remember();
  }

  // The filters, the sort and the page live in the address (#q=…&status=…&page=2), so Back from
  // a change's page, a reload or a shared link shows the same rows.
  var FIELDS = { q: "f-q", status: "f-status", control: "f-control", repo: "f-repo", category: "f-category" };
  var SORTS = {};
  document.querySelectorAll("th button[data-sort]").forEach(function (button) {
    SORTS[button.getAttribute("data-sort")] = button;
  });

  function remember() {
    var params = new URLSearchParams();
    Object.keys(FIELDS).forEach(function (key) {
      if (state[key]) { params.set(key, key === "q" ? el(FIELDS.q).value.trim() : state[key]); }
    });
    if (state.sort !== "at" || state.dir !== -1) {
      params.set("sort", state.sort);
      params.set("dir", state.dir > 0 ? "asc" : "desc");
    }
    if (state.page) { params.set("page", String(state.page + 1)); }
    var hash = params.toString();
    if (hash === window.location.hash.replace(/^#/, "")) { return; }
    var here = window.location.pathname + window.location.search;
    window.history.replaceState(null, "", hash ? "#" + hash : here);
  }

  function showSort() {
    document.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    SORTS[state.sort].parentNode.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
  }

  function restore() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    Object.keys(FIELDS).forEach(function (key) {
      var field = el(FIELDS[key]);
      field.value = params.get(key) || "";
      state[key] = key === "q" ? field.value.trim().toLowerCase() : field.value;
    });
    var sort = params.get("sort");
    if (sort && Object.prototype.hasOwnProperty.call(SORTS, sort)) {
      state.sort = sort;
      state.dir = params.get("dir") === "asc" ? 1 : -1;
      showSort();
    } else {
      state.sort = "at";
      state.dir = -1;
      document.querySelectorAll("th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    }
    var page = parseInt(params.get("page") || "1", 10);
    filtered = rows.filter(matches);
    filtered.sort(compare);
    state.page = page > 0 ? page - 1 : 0;
    render();
  }

  function apply() {
    filtered = rows.filter(matches);
    filtered.sort(compare);
    state.page = 0;
    render();
  }

  function bind(id, key, transform) {
    el(id).addEventListener("input", function () {
      state[key] = transform ? transform(this.value) : this.value;
      apply();
    });
  }

  var pending = null;
  el("f-q").addEventListener("input", function () {
    var value = this.value.trim().toLowerCase();
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { state.q = value; apply(); }, 120);
  });
  bind("f-status", "status");
  bind("f-control", "control");
  bind("f-repo", "repo");
  bind("f-category", "category");
  el("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  Object.keys(SORTS).forEach(function (key) {
    SORTS[key].addEventListener("click", function () {
      state.dir = state.sort === key ? -state.dir : 1;
      state.sort = key;
      showSort();
      apply();
    });
  });
  el("prev").addEventListener("click", function () { state.page -= 1; render(); });
  el("next").addEventListener("click", function () { state.page += 1; render(); });
  window.addEventListener("hashchange", restore);
  restore();
}());
