import { useCallback, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Container from "@mui/material/Container";
import FormControl from "@mui/material/FormControl";
import InputLabel from "@mui/material/InputLabel";
import OutlinedInput from "@mui/material/OutlinedInput";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";

const DEFAULTS = {
  supabaseUrl: "",
  supabaseAnonKey: "",
  livekitUrl: "",
  apiBaseUrl: "/api",
  appName: "PlusPTT",
};

// config.js is served at runtime so one build fits every deployment.
function readConfig() {
  const runtime = (typeof window !== "undefined" && window.__PLUSPTT_CONFIG__) || {};
  const config = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (typeof runtime[key] === "string" && runtime[key] !== "") config[key] = runtime[key];
  }
  config.apiBaseUrl = config.apiBaseUrl.replace(/\/+$/, "");
  return config;
}

// supabase-js keeps its session in localStorage as "sb-<ref>-auth-token".
function storedAccessToken() {
  try {
    for (let i = 0; i < window.localStorage.length; i += 1) {
      const key = window.localStorage.key(i);
      if (!/^sb-.*-auth-token$/.test(key)) continue;
      const session = JSON.parse(window.localStorage.getItem(key));
      const token = session?.access_token ?? session?.currentSession?.access_token;
      if (token) return token;
    }
  } catch {
    // Storage blocked or malformed: continue without a token.
  }
  return null;
}

function maskKey(key) {
  return key ? `${key.slice(0, 8)}…` : "(not set)";
}

const config = readConfig();

export default function App() {
  const [health, setHealth] = useState({ state: "checking" });
  const [channel, setChannel] = useState("general");
  const [ptt, setPtt] = useState(null);
  const [busy, setBusy] = useState(false);

  const checkHealth = useCallback(async () => {
    setHealth({ state: "checking" });
    try {
      const res = await fetch(`${config.apiBaseUrl}/health/`, {
        headers: { Accept: "application/json" },
      });
      // An HTML answer is an SPA fallback page, not the backend.
      const isHtml = (res.headers.get("content-type") || "").includes("text/html");
      if (isHtml) setHealth({ state: "down" });
      else setHealth({ state: res.ok ? "up" : "down", status: res.status });
    } catch (err) {
      setHealth({ state: "down", error: String(err.message || err) });
    }
  }, []);

  useEffect(() => {
    checkHealth();
  }, [checkHealth]);

  async function pushToTalk() {
    setBusy(true);
    setPtt(null);
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = storedAccessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const res = await fetch(`${config.apiBaseUrl}/ptt/token/`, {
        method: "POST",
        headers,
        body: JSON.stringify({ channel }),
      });
      let body = null;
      try {
        body = await res.json();
      } catch {
        // Non-JSON answer (e.g. a proxy error page).
      }
      if (res.ok) {
        setPtt({ ok: true, text: `Token issued for channel "${body?.room ?? channel}".` });
      } else {
        const detail = body?.detail ?? body?.error ?? res.statusText;
        setPtt({ ok: false, text: `Request failed (${res.status}) ${detail || ""}`.trim() });
      }
    } catch (err) {
      setPtt({ ok: false, text: `Backend unreachable: ${err.message || err}` });
    } finally {
      setBusy(false);
    }
  }

  const healthChip = {
    checking: <Chip label="checking…" size="small" />,
    up: <Chip label={`up (${health.status})`} color="success" size="small" />,
    down: (
      <Chip
        label={health.status ? `down (${health.status})` : "unreachable"}
        color="error"
        size="small"
      />
    ),
  }[health.state];

  return (
    <Container maxWidth="sm" sx={{ py: 4 }}>
      <Typography variant="h4" component="h1" gutterBottom id="app-name">
        {config.appName}
      </Typography>

      <Paper variant="outlined" sx={{ p: 2, mb: 3 }}>
        <Stack spacing={2}>
          {/* TextField's parts without its Select: keeps the bundle ~20 kB smaller. */}
          <FormControl fullWidth>
            <InputLabel htmlFor="channel">Channel</InputLabel>
            <OutlinedInput
              id="channel"
              label="Channel"
              value={channel}
              onChange={(e) => setChannel(e.target.value)}
            />
          </FormControl>
          <Button
            variant="contained"
            size="large"
            onClick={pushToTalk}
            disabled={busy || channel.trim() === ""}
          >
            Push to talk
          </Button>
          {ptt && <Alert severity={ptt.ok ? "success" : "error"}>{ptt.text}</Alert>}
        </Stack>
      </Paper>

      <Paper variant="outlined" sx={{ p: 2 }}>
        <Stack spacing={1}>
          <Box sx={{ display: "flex", alignItems: "center", gap: 1 }}>
            <Typography variant="body2">Backend:</Typography>
            <span id="backend-status">{healthChip}</span>
            <Button size="small" onClick={checkHealth}>
              Recheck
            </Button>
          </Box>
          <Typography variant="body2" id="api-base-url">
            API: {config.apiBaseUrl}
          </Typography>
          <Typography variant="body2" id="supabase-url">
            Supabase: {config.supabaseUrl || "(not set)"}
          </Typography>
          <Typography variant="body2" id="supabase-anon-key">
            Anon key: {maskKey(config.supabaseAnonKey)}
          </Typography>
          <Typography variant="body2" id="livekit-url">
            LiveKit: {config.livekitUrl || "(not set)"}
          </Typography>
        </Stack>
      </Paper>
    </Container>
  );
}
