// Starts GraphiQL against the endpoint this page was served from. Headers typed in the editor
// (Authorization, ST-ACCESS-KEY, …) stay in memory: never in the URL or local storage.
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: root.dataset.query,
    defaultHeaders: root.dataset.headers,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
    storage: { getItem: function () { return null; }, setItem: function () {}, removeItem: function () {},
               clear: function () {}, length: 0 },
  }));
})();
