from ekatra.http import Blueprint

blp = Blueprint("groups", __name__, url_prefix="/api/group")
