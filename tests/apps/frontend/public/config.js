// Default runtime configuration. Deployments serve their own file at this path.
window.__PLUSPTT_CONFIG__ = {
  supabaseUrl: "",
  supabaseAnonKey: "",
  livekitUrl: "",
  apiBaseUrl: "/api",
  appName: "PlusPTT"
};
