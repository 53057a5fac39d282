// Swagger UI on the document the service generates (no inline script: the page's CSP).
window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" });
