(function(){
function key(td){var t=td.textContent.trim().replace(/,/g,'');var m=t.match(/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?/);return m?parseFloat(m[0]):t.toLowerCase();}
function sortBy(th){var table=th.closest('table'),body=table.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th),asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(table.querySelectorAll('th'),function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]),c;if(typeof x==='number'&&typeof y==='number'){c=x-y;}else{c=String(x).localeCompare(String(y));}return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r);});}
Array.prototype.forEach.call(document.querySelectorAll('table.sortable th'),function(th){
th.tabIndex=0;th.title='Sort by this column';
th.addEventListener('click',function(){sortBy(th);});
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(th);}});});
})();
