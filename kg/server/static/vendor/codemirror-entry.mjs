// What the query page (../app.js) uses of CodeMirror 6, bundled by refresh.sh into
// codemirror/codemirror.js as one script that defines the global `CM` (no modules, no eval).
export { EditorState, Prec } from "@codemirror/state";
export { EditorView, keymap, placeholder, lineNumbers, highlightActiveLine, drawSelection } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { StreamLanguage, syntaxHighlighting, bracketMatching, indentOnInput } from "@codemirror/language";
export { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, startCompletion } from "@codemirror/autocomplete";
export { classHighlighter } from "@lezer/highlight";
export { sparql } from "@codemirror/legacy-modes/mode/sparql";
