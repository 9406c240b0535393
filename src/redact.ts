// The API key must appear nowhere. Clari error bodies can echo the request, so every
// string the action prints or writes passes through here.
export class Redactor {
  private readonly secrets: string[] = []

  add(secret: string): void {
    if (!secret) return
    // The forms a key can take once it has been echoed inside a URL or a JSON string.
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      if (!this.secrets.includes(form)) this.secrets.push(form)
    }
    this.secrets.sort((a, b) => b.length - a.length)
  }

  redact(text: string): string {
    let out = text
    for (const s of this.secrets) out = out.split(s).join('***')
    return out
  }
}
