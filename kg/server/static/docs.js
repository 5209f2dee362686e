// /docs: Swagger UI over this server's OpenAPI document, all from this server.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // the default asks validator.swagger.io to check the document: no calls elsewhere
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
// The skip link: Swagger UI's deep links take over the URL's fragment, so the focus is moved here.
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("main").focus();
});
