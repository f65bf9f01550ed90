/** Dutch, the default language of the UI. Keys are shared with en.ts. */
export const nl = {
  "app.name": "Beeldpoort",
  "app.tagline": "Beelduitwisseling tussen ziekenhuizen",
  "nav.dashboard": "Overzicht",
  "nav.logout": "Afmelden",
  "lang.switch": "English",
  "login.title": "Aanmelden",
  "login.username": "Gebruikersnaam",
  "login.password": "Wachtwoord",
  "login.submit": "Aanmelden",
  "login.failed": "Gebruikersnaam of wachtwoord onjuist.",
  "setup.title": "Eerste inrichting",
  "setup.intro":
    "Deze Beeldpoort heeft nog geen beheerder. Kies een gebruikersnaam en een wachtwoord van minstens 12 tekens.",
  "setup.username": "Gebruikersnaam beheerder",
  "setup.password": "Wachtwoord",
  "setup.passwordRepeat": "Herhaal wachtwoord",
  "setup.submit": "Beheerder aanmaken",
  "setup.tokenInvalid":
    "Deze inrichtingslink is ongeldig, verlopen of al gebruikt. Start Beeldpoort opnieuw voor een nieuwe link.",
  "setup.passwordMismatch": "De wachtwoorden komen niet overeen.",
  "setup.too_short": "Het wachtwoord moet minstens 12 tekens lang zijn.",
  "setup.usernameRequired": "Vul een gebruikersnaam in.",
  "dashboard.title": "Overzicht",
  "dashboard.welcome": "Aangemeld als {user} ({role}).",
  "dashboard.arriving": "Binnenkomend",
  "dashboard.waiting": "Wachtend",
  "dashboard.sending": "Verzenden",
  "dashboard.failed": "Mislukt",
  "dashboard.empty": "Nog geen studies.",
  "error.forbidden": "U heeft geen toegang tot deze pagina.",
  "error.notFound": "Pagina niet gevonden.",
} as const;

/** A translation key. */
export type MessageKey = keyof typeof nl;
