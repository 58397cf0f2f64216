// Behaviour every page shares. No inline script: the CSP allows only files from this server.
document.addEventListener("DOMContentLoaded", () => {
  // A form is sent once: a second tap on a slow network would fire a trigger twice.
  document.querySelectorAll("form[method=post], form[method=POST]").forEach((form) => {
    form.addEventListener("submit", () => {
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        window.setTimeout(() => { button.disabled = true; }, 0);
      });
    });
  });
});
