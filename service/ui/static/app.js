// Shows the message of a failed htmx request (the page itself stays as it was).
document.addEventListener("htmx:responseError", function (event) {
  var toast = document.getElementById("toast");
  var text = event.detail.xhr.responseText || "";
  var doc = new DOMParser().parseFromString(text, "text/html");
  var message = doc.getElementById("error-message");
  toast.textContent = message ? message.textContent : "HTTP " + event.detail.xhr.status;
  toast.hidden = false;
  setTimeout(function () { toast.hidden = true; }, 6000);
});
document.addEventListener("htmx:sendError", function () {
  var toast = document.getElementById("toast");
  toast.textContent = "The server cannot be reached / 无法连接服务器";
  toast.hidden = false;
  setTimeout(function () { toast.hidden = true; }, 6000);
});
