/* Small enhancements; every page works without them (the server does the same on submit). */
(function () {
  "use strict";

  /* Source -> verbs and types: show the terms the chosen source uses (and any already chosen). */
  function narrow(criterion) {
    var source = criterion.querySelector("select[data-source]").value;
    criterion.querySelectorAll("[data-sources]").forEach(function (el) {
      var input = el.tagName === "OPTION" ? el : el.querySelector("input");
      var chosen = el.tagName === "OPTION" ? el.selected : input.checked;
      var fits = source === "any" || el.dataset.sources.split(" ").indexOf(source) >= 0;
      el.hidden = !(fits || chosen);
      if (el.tagName === "OPTION") { el.disabled = !(fits || chosen); }
    });
  }

  /* Activities found by name, as checkboxes beside the ones already picked. */
  function searcher(criterion, url) {
    var input = criterion.querySelector("input[data-activity-search]");
    var found = criterion.querySelector(".found");
    var name = input.name.replace("activity_search", "activity_ids");
    var timer = null;
    var asked = "";
    function show(activities) {
      found.querySelectorAll("label").forEach(function (label) {
        if (!label.querySelector("input").checked) { label.remove(); }
      });
      var picked = Array.prototype.map.call(found.querySelectorAll("input:checked"),
        function (box) { return box.value; });
      activities.forEach(function (a) {
        if (picked.indexOf(a.id) >= 0) { return; }
        var label = document.createElement("label");
        label.className = "check";
        var box = document.createElement("input");
        box.type = "checkbox"; box.name = name; box.value = a.id;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + a.name));
        if (a.type) {
          var type = document.createElement("span");
          type.className = "small"; type.textContent = " (" + a.type + ")";
          label.appendChild(type);
        }
        label.title = a.id;
        found.appendChild(label);
      });
    }
    function ask() {
      var text = input.value.trim();
      if (text === asked) { return; }
      asked = text;
      if (text.length < 2) { show([]); return; }
      fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (activities) { if (asked === text) { show(activities); } });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); ask(); }
    });
    var find = criterion.querySelector("button[name=find]");
    find.addEventListener("click", function (event) {
      event.preventDefault(); clearTimeout(timer); asked = null; ask();
    });
  }

  function renumber(list) {
    var all = list.querySelectorAll("fieldset.criterion");
    all.forEach(function (criterion, n) {
      criterion.querySelector("legend .number").textContent = String(n + 1);
      criterion.querySelector("[data-remove-criterion]").hidden = all.length === 1;
    });
  }

  function enhance(criterion, list) {
    var url = list.dataset.searchUrl;
    criterion.querySelector("select[data-source]").addEventListener("change", function () {
      narrow(criterion);
    });
    criterion.addEventListener("change", function (event) {
      if (event.target.name && /-verbs$/.test(event.target.name)) { narrow(criterion); }
    });
    narrow(criterion);
    searcher(criterion, url);
    criterion.querySelector("[data-remove-criterion]").addEventListener("click", function (event) {
      event.preventDefault();
      criterion.remove();
      renumber(list);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    var list = document.querySelector(".criteria-list");
    var template = document.getElementById("criterion-template");
    if (!list || !template) { return; }
    list.querySelectorAll("fieldset.criterion").forEach(function (c) { enhance(c, list); });
    renumber(list);
    document.querySelector("[data-add-criterion]").addEventListener("click", function (event) {
      event.preventDefault();
      var used = Array.prototype.map.call(list.querySelectorAll("fieldset.criterion"),
        function (c) { return parseInt(c.dataset.index, 10); });
      var next = used.length ? Math.max.apply(null, used) + 1 : 0;
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__N__/g, String(next));
      var criterion = holder.querySelector("fieldset.criterion");
      list.appendChild(criterion);
      enhance(criterion, list);
      renumber(list);
      criterion.querySelector("select[data-source]").focus();
    });
  });
})();
