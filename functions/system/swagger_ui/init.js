// Keel: Swagger UI over this API's own spec (the page names it); every asset comes from this API.
window.addEventListener("load", function () {
  var spec = document.getElementById("ui").getAttribute("data-spec");
  window.ui = SwaggerUIBundle({ url: spec, dom_id: "#ui", validatorUrl: null, deepLinking: true });
});
