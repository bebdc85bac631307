// Keel: Swagger UI over this API's own spec; every asset comes from this API (no CDN).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", validatorUrl: null, deepLinking: true });
});
