// Join form, improved: without JavaScript the form posts normally and the service answers
// with the thank-you page (303) or a page listing the problems. With it, the form is sent by
// fetch, problems appear next to their fields, what the visitor typed stays, and the
// result is announced through a live region.
for (const form of document.querySelectorAll("form.join-form")) {
  const status = form.parentElement.querySelector(".join-status");
  const button = form.querySelector("button[type=submit]");
  const text = form.dataset;

  const announce = (message, isError) => {
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  };

  const clearErrors = () => {
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const field of form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
      const ids = (field.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("error-"));
      if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
      else field.removeAttribute("aria-describedby");
    }
  };

  const showErrors = (errors) => {
    let first = null;
    const general = [];
    for (const [name, message] of Object.entries(errors)) {
      const field = form.elements.namedItem(name);
      if (!field || !field.id) { general.push(message); continue; }
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = `error-${field.id}`;
      note.textContent = message;
      const holder = field.closest(".field") || field.parentElement;
      holder.append(note);
      field.setAttribute("aria-invalid", "true");
      const described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", described ? `${described} ${note.id}` : note.id);
      first = first || field;
    }
    const count = Object.keys(errors).length;
    announce([text.problems.replace("{count}", String(count)), ...general].join(" "), true);
    (first || status).focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    announce(text.sending);
    let response;
    let body = {};
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
      });
      body = await response.json().catch(() => ({}));
    } catch (error) {
      button.disabled = false;
      announce(text.failed, true);
      status.focus();
      return;
    }
    button.disabled = false;
    if (response.ok) {
      const heading = document.createElement("h3");
      heading.className = "join-done";
      heading.textContent = text.sentHeading;
      form.hidden = true;
      status.before(heading);
      announce(text.sent);
      status.focus();
      return;
    }
    showErrors(body.errors || { request: text.failed });
  });
}
