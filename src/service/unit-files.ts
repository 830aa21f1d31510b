/**
 * The service definitions `service print` writes: a systemd user unit (Type=notify, see notify.ts) and a launchd
 * agent, with the absolute paths of this node, this executable and the config file filled in. config/ holds the
 * same text rendered for example paths (a test keeps them identical).
 */
export interface ServicePaths {
  /** The node executable (process.execPath). */
  readonly node: string;
  /** This package's dist/src/bin.js. */
  readonly bin: string;
  /** The config file the service runs with. */
  readonly config: string;
  /** launchd: where stdout/stderr go (launchd has no journal). */
  readonly logFile: string;
  /** PATH for the service: the AWS SDK runs credential_process and SSO helpers from it. */
  readonly path: string;
}

/** Seconds the manager waits after SIGTERM before SIGKILL: the default --shutdown-grace (30 s) and a margin. */
export const STOP_TIMEOUT_SECONDS = 40;
export const LAUNCHD_LABEL = 'io.github.redshift-auth-proxy';

/** One systemd command-line word: quoted when it holds anything but safe characters (systemd.service "Command lines"). */
function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, '\\$1')}"`;
}

export function systemdUnit(p: ServicePaths): string {
  const start = [p.node, p.bin, 'start', '--config', p.config].map(systemdWord).join(' ');
  return `# redshift-auth-proxy as a systemd user service: started at login, restarted on failure.
#   redshift-auth-proxy service print --systemd --config ${p.config} > ~/.config/systemd/user/redshift-auth-proxy.service
#   systemctl --user daemon-reload && systemctl --user enable --now redshift-auth-proxy
#   loginctl enable-linger "$USER"    # optional: run it also while you are not logged in
[Unit]
Description=redshift-auth-proxy: Amazon Redshift for local tools with IAM credentials

[Service]
# READY=1 once every listener accepts; STOPPING=1 when shutdown begins. The notification is delivered by a helper
# process (systemd-notify), so the manager must accept it from any process of the unit.
Type=notify
NotifyAccess=all
ExecStart=${start}
Environment=${systemdWord(`PATH=${p.path}`)}
Environment=REDSHIFT_AUTH_PROXY_LOG_FORMAT=json
# systemctl --user reload: re-read the config file; open sessions continue, a file with problems changes nothing.
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM: stop accepting, let sessions finish for --shutdown-grace, then exit 143 (a clean stop here).
KillSignal=SIGTERM
TimeoutStopSec=${STOP_TIMEOUT_SECONDS}
SuccessExitStatus=143
Restart=on-failure
RestartSec=5
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A launchd agent (no comment inside: XML comments may not contain the "--" of flag names). Install it with
 *   redshift-auth-proxy service print --launchd > ~/Library/LaunchAgents/io.github.redshift-auth-proxy.plist
 *   launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/io.github.redshift-auth-proxy.plist
 */
export function launchdAgent(p: ServicePaths): string {
  const args = [p.node, p.bin, 'start', '--config', p.config].map((a) => `    <string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>PATH</key>
    <string>${xml(p.path)}</string>
    <key>REDSHIFT_AUTH_PROXY_LOG_FORMAT</key>
    <string>json</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ExitTimeOut</key>
  <integer>${STOP_TIMEOUT_SECONDS}</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${xml(p.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(p.logFile)}</string>
</dict>
</plist>
`;
}
