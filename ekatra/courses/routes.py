from ekatra.http import Blueprint

blp = Blueprint("courses", __name__, url_prefix="/api/course")
