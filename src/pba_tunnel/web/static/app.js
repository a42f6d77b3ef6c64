/* pba-tunnel web page: search as you type, previews, copy buttons and the source editor.
   Plain script, no dependencies. Server fragments are escaped HTML; text of our own goes in via textContent. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function post(url, data) {
    data.set("csrf_token", csrf());
    return fetch(url, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { "X-CSRF-Token": csrf() },
      credentials: "same-origin"
    });
  }

  // Only the latest answer counts: an older, slower one must not replace a newer one.
  function latest() {
    var counter = 0;
    return function (promise, apply) {
      var mine = ++counter;
      return promise.then(function (value) {
        if (mine === counter) { apply(value); }
      });
    };
  }

  /* -- library: search as you type ------------------------------------------------------------ */
  var searchForm = document.getElementById("library-search");
  if (searchForm) {
    var results = document.getElementById("results");
    var showSearch = latest();
    var runSearch = debounce(function () {
      var params = new URLSearchParams(new FormData(searchForm));
      Array.from(params.keys()).forEach(function (key) { if (!params.get(key)) { params.delete(key); } });
      var query = params.toString();
      history.replaceState(null, "", query ? "/?" + query : "/");
      params.set("fragment", "1");
      showSearch(fetch("/?" + params.toString(), { credentials: "same-origin" }).then(function (r) { return r.text(); }),
        function (html) { results.innerHTML = html; results.setAttribute("data-query", query); });
    }, 150);
    searchForm.addEventListener("input", runSearch);
    searchForm.addEventListener("change", runSearch);
  }

  /* -- template page: preview without leaving the page ------------------------------------------ */
  var previewForm = document.getElementById("preview-form");
  if (previewForm) {
    var preview = document.getElementById("preview");
    var showPreview = latest();
    previewForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(previewForm);
      data.set("fragment", "1");
      showPreview(post(previewForm.getAttribute("action"), data).then(function (r) { return r.text(); }),
        function (html) { preview.innerHTML = html; });
    });
  }

  /* -- long requests: say that the page is working --------------------------------------------- */
  Array.prototype.forEach.call(document.querySelectorAll("form[data-busy]"), function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.textContent = form.getAttribute("data-busy");
        button.setAttribute("aria-disabled", "true");
      }
    });
  });

  /* -- copy buttons -------------------------------------------------------------------------------- */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".copy-button") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector(".copied");
    if (!source) { return; }
    var say = function (text) { if (status) { status.textContent = text; } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(source.value).then(function () { say("Copied."); },
        function () { say("Copying was refused by the browser."); });
    } else {
      say("This browser cannot copy from the page.");
    }
  });

  /* -- the editor ----------------------------------------------------------------------------------- */
  var source = document.getElementById("source");
  var highlight = document.getElementById("highlight");
  if (!source || !highlight) { return; }
  var gutter = document.getElementById("gutter");
  var problems = document.getElementById("problems");
  var sample = document.getElementById("sample");
  var livePreview = document.getElementById("live-preview");
  var nameField = document.getElementById("template-name");
  var sampleEdited = false;
  var errorLines = {};

  function span(cls, text) {
    var node = document.createElement("span");
    node.className = cls;
    node.textContent = text;
    return node;
  }

  // Jinja tags inside one line: {{ expressions }}, {% statements %}, {# comments #}.
  function jinjaInto(target, text) {
    var pattern = /(\{\{[\s\S]*?(?:\}\}|$)|\{%[\s\S]*?(?:%\}|$)|\{#[\s\S]*?(?:#\}|$))/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match[0] === "") { pattern.lastIndex++; continue; }
      if (match.index > last) { target.appendChild(document.createTextNode(text.slice(last, match.index))); }
      var kind = match[0].charAt(1) === "{" ? "hl-expr" : (match[0].charAt(1) === "%" ? "hl-stmt" : "hl-jcomment");
      target.appendChild(span(kind, match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) { target.appendChild(document.createTextNode(text.slice(last))); }
  }

  function yamlInto(target, text) {
    var comment = text.match(/^(\s*)(#.*)$/);
    if (comment) {
      target.appendChild(document.createTextNode(comment[1]));
      target.appendChild(span("hl-comment", comment[2]));
      return;
    }
    var key = text.match(/^(\s*(?:-\s+)?)([A-Za-z_][\w-]*)(:)(.*)$/);
    if (key) {
      target.appendChild(document.createTextNode(key[1]));
      target.appendChild(span("hl-key", key[2] + key[3]));
      target.appendChild(document.createTextNode(key[4]));
      return;
    }
    target.appendChild(document.createTextNode(text));
  }

  function paint() {
    var lines = source.value.split("\n");
    var code = document.createDocumentFragment();
    var numbers = document.createDocumentFragment();
    var inFrontMatter = false;
    lines.forEach(function (text, index) {
      var number = index + 1;
      var line = document.createElement("span");
      line.className = "hl-line" + (errorLines[number] ? " error-line" : "");
      line.setAttribute("data-line", String(number));
      if (index === 0 && text.trim() === "---") {
        inFrontMatter = true;
        line.appendChild(span("hl-delim", text));
      } else if (inFrontMatter && text.replace(/\s+$/, "") === "---") {
        inFrontMatter = false;
        line.appendChild(span("hl-delim", text));
      } else if (inFrontMatter) {
        yamlInto(line, text);
      } else if (/^(system|user|assistant):\s*$/.test(text)) {
        line.appendChild(span("hl-role", text));
      } else {
        jinjaInto(line, text);
      }
      code.appendChild(line);
      code.appendChild(document.createTextNode("\n"));
      var gutterLine = span(errorLines[number] ? "gutter-error" : "", String(number));
      gutterLine.setAttribute("data-line", String(number));
      if (errorLines[number]) { gutterLine.title = errorLines[number]; }
      numbers.appendChild(gutterLine);
    });
    highlight.replaceChildren(code);
    if (gutter) { gutter.replaceChildren(numbers); }
    syncScroll();
  }

  function syncScroll() {
    highlight.parentNode.scrollTop = source.scrollTop;
    highlight.parentNode.scrollLeft = source.scrollLeft;
    if (gutter) { gutter.scrollTop = source.scrollTop; }
  }

  function showProblems(list, warnings) {
    errorLines = {};
    var items = document.createDocumentFragment();
    list.forEach(function (problem) {
      var where = problem.line ? "Line " + problem.line + ": " : "";
      var field = problem.field ? problem.field + ": " : "";
      var li = document.createElement("li");
      li.className = "problem";
      li.setAttribute("data-line", problem.line ? String(problem.line) : "");
      li.textContent = where + field + problem.message;
      items.appendChild(li);
      if (problem.line) { errorLines[problem.line] = problem.message; }
    });
    warnings.forEach(function (warning) {
      var li = document.createElement("li");
      li.className = "warning";
      li.textContent = "Warning: " + warning;
      items.appendChild(li);
    });
    problems.replaceChildren(items);
    paint();
  }

  var checkSeen = latest();
  var previewSeen = latest();
  function refreshPreview() {
    var data = new FormData();
    data.set("source", source.value);
    data.set("name", nameField ? nameField.value : "");
    data.set("sample", sample.value);
    previewSeen(post("/preview", data).then(function (r) { return r.text(); }),
      function (html) { livePreview.innerHTML = html; });
  }
  function check() {
    var data = new FormData();
    data.set("source", source.value);
    data.set("name", nameField ? nameField.value : "");
    checkSeen(post("/validate", data).then(function (r) { return r.json(); }), function (answer) {
      showProblems(answer.problems || [], answer.warnings || []);
      if (answer.ok) {
        if (!sampleEdited && answer.sample) { sample.value = JSON.stringify(answer.sample, null, 2); }
        refreshPreview();
      }
    });
  }

  // A problem the server found on save arrives in the page: mark its line too.
  Array.prototype.forEach.call(problems.querySelectorAll("li[data-line]"), function (li) {
    var number = parseInt(li.getAttribute("data-line"), 10);
    if (number) { errorLines[number] = li.textContent; }
  });
  source.addEventListener("input", function () { paint(); });
  source.addEventListener("input", debounce(check, 250));
  source.addEventListener("scroll", syncScroll);
  sample.addEventListener("input", function () { sampleEdited = true; });
  sample.addEventListener("input", debounce(refreshPreview, 250));
  paint();
  check();
})();
