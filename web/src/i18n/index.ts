import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

import en from './en.json';
import ko from './ko.json';

export const LANGUAGES = ['en', 'ko'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORED = 'ticketnest.language';

/** The reader's choice if made, else the browser's language (Korean when it says so). */
export function initialLanguage(
  stored: string | null = localStorage.getItem(STORED),
  browser: readonly string[] = navigator.languages,
): Language {
  if (stored === 'en' || stored === 'ko') {
    return stored;
  }
  return browser.some((l) => l.toLowerCase().startsWith('ko')) ? 'ko' : 'en';
}

export function setLanguage(language: Language): void {
  localStorage.setItem(STORED, language);
  void i18n.changeLanguage(language);
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ko: { translation: ko } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});

i18n.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});
document.documentElement.lang = i18n.language;

export default i18n;
