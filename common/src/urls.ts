/** URLs that may carry credentials (PW_MQTT_URL, PW_INFLUX_URL) are logged and shown only with the password masked. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  return u.toString();
}
