// Google Analytics. The server includes this file only on pages it rendered after the person
// allowed analytics (and without Global Privacy Control), with the CSP that admits Google's
// hosts on those pages only. Nothing here runs otherwise.
(() => {
  const tag = document.querySelector("script[data-measurement-id]");
  const id = tag ? tag.dataset.measurementId : "";
  if (!/^G-[A-Za-z0-9]{4,20}$/.test(id)) return;

  window.dataLayer = window.dataLayer || [];
  function gtag() {
    window.dataLayer.push(arguments);
  }
  // Analytics only: never advertising storage, signals or ad personalisation.
  gtag("consent", "default", {
    analytics_storage: "granted",
    ad_storage: "denied",
    ad_user_data: "denied",
    ad_personalization: "denied",
  });
  gtag("js", new Date());
  gtag("config", id, {
    // Host-only cookies: the server expires exactly these when consent is withdrawn.
    cookie_domain: "none",
    cookie_flags: location.protocol === "https:" ? "SameSite=Lax;Secure" : "SameSite=Lax",
    allow_google_signals: false,
    allow_ad_personalization_signals: false,
  });

  const script = document.createElement("script");
  script.async = true;
  script.src = `https://www.googletagmanager.com/gtag/js?id=${encodeURIComponent(id)}`;
  document.head.appendChild(script);
})();
